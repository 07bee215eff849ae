"""Site furniture and spam vocabulary, written for this project (article text: ``english``,
other languages: ``languages``, code and math: ``technical``).
"""

from __future__ import annotations

# --- Site furniture (English) -------------------------------------------------------------------
NAV_ITEMS = ["Home", "News", "Guides", "Reviews", "Community", "Shop", "About", "Contact"]
FOOTER_LINKS = ["Privacy policy", "Terms of use", "Cookie settings", "Advertise", "Careers", "Help"]
COOKIE_TEXT = "We use cookies to improve your experience, analyse traffic and show personalised ads. By continuing to browse, you accept our cookie policy."
SIDEBAR_TITLES = ["Popular posts", "Recent comments", "Trending now", "You may also like"]
NEWSLETTER = "Subscribe to our weekly newsletter and never miss an update."
SITE_WORDS = [
    "daily",
    "green",
    "open",
    "bright",
    "north",
    "river",
    "city",
    "smart",
    "quiet",
    "blue",
    "urban",
    "wild",
    "simple",
    "golden",
    "little",
    "modern",
]
SITE_NOUNS = [
    "kitchen",
    "journal",
    "notes",
    "times",
    "corner",
    "review",
    "digest",
    "lab",
    "post",
    "planet",
    "guide",
    "compass",
    "garden",
    "ledger",
    "atlas",
    "forum",
]
TLDS = ["com", "org", "net", "co.uk", "io", "info"]
SERVERS = ["nginx", "Apache", "nginx/1.24.0", "Apache/2.4.57 (Ubuntu)", "cloudflare", "LiteSpeed"]

# --- Spam ---------------------------------------------------------------------------------------
SPAM_KEYWORDS = [
    "cheap",
    "discount",
    "best price",
    "buy now",
    "free shipping",
    "sale",
    "deal",
    "offer",
    "online",
    "top rated",
    "limited time",
    "order today",
    "lowest price",
    "guaranteed",
]
SPAM_PRODUCTS = ["watches", "sunglasses", "sneakers", "handbags", "phone cases", "headphones", "vitamins", "jackets"]
PRODUCT_BRANDS = ["Veltro", "Nordika", "Ambra", "Kestrel", "Solano", "Trivex", "Marlow", "Zenit", "Orvio", "Lumen"]
PRODUCT_KINDS = [
    "Wireless Earbuds",
    "Running Shoe",
    "Desk Lamp",
    "Coffee Grinder",
    "Backpack",
    "Smart Watch",
    "Water Bottle",
    "Yoga Mat",
    "Bluetooth Speaker",
    "Office Chair",
    "Blender",
    "Travel Mug",
]
PRODUCT_TRAITS = ["Pro", "Max", "Lite", "Plus", "Ultra", "Mini", "Classic", "Sport"]
SHORT_LINE_WORDS = [
    "home",
    "menu",
    "tags",
    "latest",
    "archive",
    "more",
    "login",
    "sign up",
    "search",
    "top",
    "categories",
    "share",
    "print",
    "back",
    "next",
    "gallery",
    "video",
    "photos",
    "events",
    "deals",
]
