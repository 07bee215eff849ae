"""English word lists and sentence frames, written for this project.

A page draws its frames without replacement, so no frame's fixed words repeat within a page
(Gopher's duplicated n-gram rules see ordinary prose, not a template echoing itself). Slots:

    {n} {ns} / {n2} {ns2}     two different topic nouns (singular, plural)
    {a} {a2}                  two different topic adjectives
    {v} {vs} {vd} {vp}        a topic verb: base, third person, past, past participle; {v2} {vs2} a second one
    {x} {x2}                  groups of people who care about the topic (plural)
    {role} {place}            "a retired nurse", "in a small clinic"
    {person} {city}           a full name, a city
    {num} {big} {pct} {count} numbers: 3-40, 120-9,000 with commas, 5-85, a small number in words
    {year} {year2} {month} {weekday} {season} {span}   dates and durations (year2 is after year)
    topic frames add {temp} {rate} {ver} {century} {old_year} {quarter}
"""

from __future__ import annotations


def lines(block: str) -> list[str]:
    """One entry per non-empty line of a triple-quoted block."""
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def words(text: str) -> list[str]:
    """Words separated by white space."""
    return text.split()


def pairs(block: str) -> list[tuple[str, str]]:
    """``singular/plural`` words separated by spaces."""
    return [tuple(word.split("/")) for word in block.split()]  # type: ignore[misc]


# Each topic: nouns (singular/plural), adjectives, verbs (base form; see sentences.conjugate),
# experts (plural groups), roles (a person), places (a prepositional phrase), frames (topic-only).
TOPICS: dict[str, dict[str, list]] = {
    "science": {
        "nouns": pairs(
            "cell/cells protein/proteins experiment/experiments sample/samples molecule/molecules "
            "measurement/measurements theory/theories planet/planets telescope/telescopes species/species "
            "gene/genes laboratory/laboratories crystal/crystals enzyme/enzymes particle/particles "
            "detector/detectors fossil/fossils signal/signals model/models orbit/orbits"
        ),
        "adjectives": lines("""
            stable
            microscopic
            surprising
            reliable
            complex
            careful
            recent
            precise
            faint
            unusual
            independent
            noisy
            dense
            controlled
        """),
        "temperatures": [-80, 38, 1],  # degrees Celsius for {temp}
        "verbs": words("measure observe explain predict reveal test record compare detect isolate track sample"),
        "experts": lines("""
            researchers
            biologists
            physicists
            astronomers
            chemists
            geologists
            lab technicians
            graduate students
        """),
        "roles": lines("""
            a postdoctoral researcher
            a field biologist
            a retired physics teacher
            an amateur astronomer
            a lab manager
            a science journalist
        """),
        "places": lines("""
            in the lab
            under a microscope
            at the observatory
            in a cold room
            on the research vessel
            in the field station
            at a university in the north
            in a shared workshop
        """),
        "frames": lines("""
            The team kept {num} {ns} at {temp} degrees Celsius for the whole trial.
            Under the microscope, each {n} looked {a} and slightly {a2}.
            The paper reports an error margin of about {pct} percent, which is normal for this kind of work.
            A control group of {num} {ns} was kept apart for comparison.
            Funding for the project came through in {month} {year}, after two failed applications.
            Reviewers asked for more {ns} before the result could be confirmed.
            Replication is slow work, but it is how science corrects itself.
            The instrument has to be calibrated again whenever the room temperature shifts.
        """),
    },
    "cooking": {
        "nouns": pairs(
            "recipe/recipes onion/onions sauce/sauces oven/ovens pan/pans spice/spices dough/doughs "
            "vegetable/vegetables stew/stews kitchen/kitchens lemon/lemons meal/meals loaf/loaves "
            "potato/potatoes pastry/pastries broth/broths knife/knives herb/herbs tart/tarts carrot/carrots"
        ),
        "adjectives": lines("""
            fresh
            crispy
            tender
            simple
            homemade
            savoury
            warm
            seasonal
            golden
            rich
            tangy
            hearty
            delicate
            smoky
        """),
        "temperatures": [160, 240, 10],
        "verbs": words("stir bake season chop simmer serve taste prepare roast grate slice knead"),
        "experts": lines("""
            home cooks
            chefs
            bakers
            food writers
            line cooks
            market traders
            grandparents
            restaurant owners
        """),
        "roles": lines("""
            a pastry chef
            a retired baker
            a school cook
            a food blogger
            a caterer
            an olive grower
        """),
        "places": lines("""
            in a small kitchen
            at the weekend market
            over a low flame
            in a cast iron pan
            at a family lunch
            in the back of the restaurant
            on a camping stove
            at the village bakery
        """),
        "frames": lines("""
            Heat the oven to {temp} degrees and leave the {n} in for about {num} minutes.
            Season with a pinch of salt, a little pepper and a squeeze of lemon.
            The {n} should feel {a} when you press it gently with a spoon.
            Serve it warm, with bread on the side and a {a2} salad.
            This amount feeds {count} people, with leftovers for lunch.
            Leftovers keep in the fridge for {count} days in a covered container.
            Chop the {ns} roughly; nobody will notice if the pieces are uneven.
            A heavy pan spreads the heat evenly and stops anything from burning.
        """),
    },
    "travel": {
        "nouns": pairs(
            "journey/journeys village/villages train/trains museum/museums harbour/harbours hotel/hotels "
            "trail/trails island/islands market/markets bridge/bridges valley/valleys ticket/tickets "
            "ferry/ferries castle/castles beach/beaches hostel/hostels station/stations square/squares "
            "lighthouse/lighthouses guesthouse/guesthouses"
        ),
        "adjectives": lines("""
            quiet
            crowded
            scenic
            affordable
            historic
            remote
            colourful
            charming
            windy
            sleepy
            lively
            rugged
            sunlit
            overpriced
        """),
        "verbs": words("visit explore cross reach recommend book discover follow photograph skip tour avoid"),
        "experts": lines("""
            travellers
            local guides
            backpackers
            tourists
            visitors
            cyclists
            hikers
            tour operators
        """),
        "roles": lines("""
            a ferry captain
            a mountain guide
            a hotel receptionist
            a travel writer
            a bus driver
            a retired geography teacher
        """),
        "places": lines("""
            along the coast
            in the old town
            on the night train
            near the border
            at the far end of the valley
            in the off season
            on a rainy afternoon
            around the harbour
        """),
        "frames": lines("""
            The train from {city} takes about {num} minutes and runs every hour.
            A single ticket cost us {num} euros, which felt fair for the distance.
            Arrive early, because the {ns} fill up quickly by mid-morning.
            We stayed {count} nights and could easily have stayed longer.
            The path up to the {n} is steep in places, so bring sturdy shoes and water.
            Locals suggest coming in {month}, when the crowds have thinned out.
            Most signs are bilingual, and the staff at the {n} speak decent English.
            The best view is from the old {n2}, just after sunrise.
        """),
    },
    "history": {
        "nouns": pairs(
            "empire/empires treaty/treaties king/kings castle/castles manuscript/manuscripts battle/battles "
            "city/cities merchant/merchants revolution/revolutions archive/archives church/churches "
            "border/borders monastery/monasteries guild/guilds harbour/harbours charter/charters "
            "fortress/fortresses dynasty/dynasties rebellion/rebellions chronicle/chronicles"
        ),
        "adjectives": lines("""
            medieval
            ancient
            powerful
            forgotten
            influential
            early
            royal
            rural
            turbulent
            prosperous
            fragile
            contested
            wealthy
            obscure
        """),
        "verbs": words("describe shape defend record replace control build document besiege rule question restore"),
        "experts": lines("""
            historians
            archaeologists
            scholars
            contemporary writers
            chroniclers
            archivists
            museum curators
            local historians
        """),
        "roles": lines("""
            a museum curator
            an archivist
            a retired history teacher
            a medieval historian
            a local genealogist
            a conservation architect
        """),
        "places": lines("""
            in the county archive
            along the old trade route
            in the ruined abbey
            under the town hall
            near the river crossing
            in the cathedral library
            on the northern frontier
            in the market square
        """),
        "frames": lines("""
            The {n} was founded around {old_year}, according to the surviving records.
            By the {century} century, the {ns} of the region had changed hands several times.
            A letter dated {month} {old_year} describes the {n} in unusual detail.
            Only {num} copies of the original {n2} are known to survive.
            Excavations in {year} uncovered the foundations of a {a} {n}.
            The {n} held out for {num} days before the garrison surrendered.
            Tax records from the period list {big} households in the town.
            Later writers tended to exaggerate the role of the {n}.
        """),
    },
    "programming": {
        "nouns": pairs(
            "function/functions variable/variables compiler/compilers library/libraries database/databases "
            "request/requests server/servers test/tests interface/interfaces module/modules query/queries "
            "thread/threads parser/parsers cache/caches endpoint/endpoints container/containers "
            "script/scripts branch/branches dependency/dependencies pipeline/pipelines"
        ),
        "adjectives": lines("""
            fast
            readable
            concurrent
            typed
            efficient
            modular
            robust
            lightweight
            flaky
            legacy
            verbose
            stateless
            minimal
            portable
        """),
        "verbs": words("parse handle store call optimize validate cache refactor deploy profile debug document"),
        "experts": lines("""
            developers
            engineers
            maintainers
            new programmers
            reviewers
            data scientists
            students
            contributors
        """),
        "roles": lines("""
            a backend developer
            a site reliability engineer
            an open source maintainer
            a computer science lecturer
            a freelance web developer
            a security researcher
        """),
        "places": lines("""
            in production
            on a small laptop
            in the staging environment
            behind a load balancer
            in the test suite
            on the build server
            inside a container
            in a code review
        """),
        "frames": lines("""
            On a laptop the call returns in about {num} milliseconds, which is fast enough here.
            Version {ver} of the library changed the default behaviour, so check your lock file.
            Run the tests in a fresh environment before you open a pull request.
            Logging every {n} is tempting, but it slows the server down noticeably.
            The benchmark handled {big} requests per second on a single core.
            Type hints catch a surprising number of mistakes before the code ever runs.
            If the {n} times out, retry with exponential backoff rather than in a tight loop.
            Keep configuration out of the code and read it from the environment instead.
        """),
    },
    "health": {
        "nouns": pairs(
            "patient/patients habit/habits muscle/muscles diet/diets doctor/doctors symptom/symptoms "
            "exercise/exercises vitamin/vitamins heart/hearts routine/routines clinic/clinics "
            "treatment/treatments injury/injuries joint/joints nutrient/nutrients walk/walks "
            "prescription/prescriptions therapy/therapies meal/meals posture/postures"
        ),
        "adjectives": lines("""
            healthy
            regular
            moderate
            chronic
            balanced
            gentle
            daily
            common
            mild
            sedentary
            restful
            steady
            strenuous
            preventive
        """),
        "verbs": words("improve reduce support prevent monitor strengthen affect treat assess relieve manage track"),
        "experts": lines("""
            doctors
            nurses
            health experts
            physiotherapists
            dietitians
            pharmacists
            sports coaches
            general practitioners
        """),
        "roles": lines("""
            a practice nurse
            a sports physiotherapist
            a retired surgeon
            a community pharmacist
            a registered dietitian
            a running coach
        """),
        "places": lines("""
            at the local clinic
            in a busy surgery
            at home
            in the gym
            on the hospital ward
            at the community centre
            in a rehabilitation unit
            during a routine check
        """),
        "frames": lines("""
            Aim for about {num} minutes of moderate activity on most days of the week.
            The study followed {big} adults for {count} years.
            Drink water regularly, especially on warm days or after exercise.
            If the symptoms last longer than {count} weeks, see your doctor.
            Around {pct} percent of participants reported better sleep after the change.
            Stretching for ten minutes in the evening is an easy habit to keep.
            Nothing here replaces advice from a qualified professional.
            Blood pressure readings were taken every morning at the same time.
        """),
    },
    "finance": {
        "nouns": pairs(
            "budget/budgets loan/loans market/markets investor/investors account/accounts rate/rates "
            "bond/bonds saving/savings company/companies tax/taxes pension/pensions fund/funds "
            "mortgage/mortgages invoice/invoices dividend/dividends salary/salaries portfolio/portfolios "
            "expense/expenses insurer/insurers share/shares"
        ),
        "adjectives": lines("""
            stable
            volatile
            long-term
            careful
            modest
            annual
            global
            private
            liquid
            diversified
            costly
            fixed
            predictable
            risky
        """),
        "verbs": words("invest borrow save spend lower raise manage protect audit diversify review hedge"),
        "experts": lines("""
            analysts
            economists
            financial advisers
            small businesses
            households
            accountants
            pension trustees
            retail investors
        """),
        "roles": lines("""
            a tax adviser
            a credit union manager
            a retired bank clerk
            a personal finance writer
            a bookkeeper
            a fund manager
        """),
        "places": lines("""
            at the end of each month
            in a tax-free account
            on the stock exchange
            at the local bank branch
            in a spreadsheet
            during a downturn
            at the annual review
            in the first quarter
        """),
        "frames": lines("""
            A rate of {rate} percent sounds small, but it compounds year after year.
            The fund returned {rate} percent last year after fees.
            Set aside {pct} percent of each payslip before spending anything else.
            Over {count} years, even modest savings grow into a meaningful sum.
            Fees matter more than most people think, so compare them carefully.
            The company reported revenue of {big} million in the {quarter} quarter.
            Inflation reached {rate} percent in {year}, eroding the value of cash.
            Keep an emergency reserve worth about {count} months of expenses.
        """),
    },
    "gardening": {
        "nouns": pairs(
            "seed/seeds tomato/tomatoes root/roots leaf/leaves garden/gardens flower/flowers soil/soils "
            "shrub/shrubs bed/beds hedge/hedges pot/pots orchard/orchards seedling/seedlings bulb/bulbs "
            "greenhouse/greenhouses compost/composts lawn/lawns vine/vines cutting/cuttings rose/roses"
        ),
        "adjectives": lines("""
            sunny
            damp
            fertile
            shady
            hardy
            young
            green
            sheltered
            sandy
            overgrown
            tender
            drought-tolerant
            leafy
            neglected
        """),
        "verbs": words("plant water prune grow protect harvest feed cover sow divide transplant mulch"),
        "experts": lines("""
            gardeners
            growers
            allotment holders
            landscapers
            nursery owners
            beekeepers
            horticulturists
            weekend gardeners
        """),
        "roles": lines("""
            a head gardener
            an allotment secretary
            a retired florist
            a nursery owner
            a garden designer
            a seed collector
        """),
        "places": lines("""
            in raised beds
            on a north-facing wall
            in the greenhouse
            on a windy balcony
            along the fence
            in heavy clay
            under the apple trees
            at the community garden
        """),
        "frames": lines("""
            Sow the {ns} about {num} millimetres deep and keep the soil moist.
            Space the plants roughly {num} centimetres apart to give the roots room.
            Frost can arrive as late as {month}, so cover young plants at night.
            A layer of mulch keeps moisture in and weeds down through the summer.
            Water in the early morning so that the leaves dry before evening.
            Our plot produced {num} kilos of {ns} in a single season.
            Rotate the beds each year to keep the soil healthy.
            Slugs love tender seedlings, so check the bed after rain.
        """),
    },
}

# Frames for every topic; each holds its own wording, so two frames share no five-word stretch.
FRAMES: list[str] = lines("""
    The {a} {n} {vs} the {ns2} in a way that few people expect.
    Many {x} say that a {a} {n} is the first thing worth checking.
    When the {n} is {a}, it usually {vs} the {ns2} without much trouble.
    In their experience, {x} {v} {a} {ns} before they look at anything else.
    A {a} {n} can change how {x} {v} the whole process.
    This is why {x} often {v} the {n} twice, once early and once late in the day.
    There are at least {count} reasons why a {n} {vs} {a2} {ns2} better than it used to.
    Some {x} prefer {a} {ns}, while others would rather {v} a {a2} {n2}.
    If you {v} the {n} carefully, the result tends to be {a} and easy to repeat.
    Nobody expected the {n} to {v} so many {a} {ns2} in a single year.
    The real question is not whether {x} {v} the {n}, but how often they bother.
    According to {person}, {role}, the {a} {n} remains the most useful tool around.
    Each {n} {vs} a {a} {n2}, and that small detail makes a real difference.
    It took {x} {span} to {v} the {ns}, but the effort paid off.
    We asked {x} how they {v} a {a} {n}, and their answers were strikingly similar.
    Most guides skip this step, yet a {a} {n} shapes everything that follows.
    For beginners, the best advice is to {v} one {n} at a time.
    Over the last decade, {x} have learned to {v} {a} {ns} with far less effort.
    You do not need a {a} {n} to get started; a {a2} one is perfectly fine.
    The {ns} were {a}, the {n2} looked {a2}, and everyone seemed cheerful.
    Although the {n} {vs} the {n2}, it does not replace a {a} plan.
    Later on we will look at why {x} {v} {ns} the way they do.
    What matters most is that the {n} stays {a} for as long as possible.
    In the end, {x} agreed that the {a} {ns} were worth the extra time.
    {person} first noticed the problem in {year}, when a {a} {n} failed to {v} anything useful.
    Roughly {pct} percent of {x} in a recent survey said they {v} {ns} every week.
    The figures tell a clear story: {big} {ns} were counted, and only {num} of them were {a}.
    On a typical {weekday}, {person} will {v} around {num} {ns} {place}.
    It is easy to forget how {a} a {n} can be until you try to {v} one yourself.
    Back in {month} {year}, a small group of {x} started to {v} {ns} {place}.
    None of this means the {n} is perfect, of course.
    The gap between a {a} {n} and a {a2} one is smaller than it looks.
    Critics argue that {x} {v} too many {ns}, but the evidence is mixed.
    One {a} {n} is rarely enough, so plan for at least {count}.
    That said, {x2} have raised fair doubts about {a} {ns}.
    The {n} itself is not new; what has changed is how {x} {v} it.
    Anyone who has tried to {v} a {n} {place} knows how {a} the first attempt feels.
    By {year}, nearly every {n} in {city} had been {vp} at least once.
    {person} puts it simply: if the {n} is not {a}, nothing else will work.
    Small changes add up, and a {a} {n} is a good place to begin.
    The story of one {n} in {city} is a useful example.
    Few {x} would {v} a {n} without first checking the {n2}.
    A second, less obvious point concerns the {ns2}.
    Results vary, but most {x} report that {a} {ns} hold up better over time.
    It helps to write down when and how you {v} each {n}.
    Between {year} and {year2}, the number of {ns} in {city} roughly doubled.
    We looked at {num} {a} {ns} in total, and {count} of them stood out.
    Expect the first {n} to take longer than the rest.
    There is no single right way to {v} a {n}, and that is part of the appeal.
    {x} tend to disagree about the {n2}, but rarely about the {n}.
    A short walk through {city} shows how {a} the local {ns} have become.
    The main risk is that the {n} turns {a2} too quickly.
    If in doubt, {v} the {n} again and compare the two results.
    These {ns} are {a}, cheap to find and surprisingly forgiving.
    {person} has spent {num} years trying to {v} the perfect {n}.
    When asked what surprised them most, {x} pointed to the {a} {ns2}.
    Timing matters as well: late in {month}, the {ns} behave quite differently.
    A good rule of thumb is one {n} for every {num} {ns2}.
    What happens next depends largely on the {n2}.
    For a long time, {x} assumed that every {n} had to be {a}.
    That assumption turned out to be wrong, or at least incomplete.
    Today {x} {v} {ns} in ways that would have seemed odd in {year}.
    The {a} option is not always the cheaper one.
    Even so, {pct} percent of the {ns} we saw were in good condition.
    A friend of mine in {city} swears by a {a} {n} and nothing else.
    It is worth pausing here to explain what a {n2} actually does.
    In short, a {n2} {vs} the {n}, and the {n} {vs2} everything else.
    People who {v} {ns} for a living rarely talk about it in these terms.
    Weather, cost and time all play a part in how {x} {v} their {ns}.
    The old advice still holds: keep the {n} {a} and the {ns2} {a2}.
    Looking back, {person} admits that the {a} {n} was a lucky choice.
    Some readers wrote in to say that they {v} their {ns} {place}.
    Others pointed out that a {a2} {n2} works just as well.
    We tried both approaches over {span} and kept notes.
    The first approach was quicker; the second gave more {a} {ns}.
    It is tempting to {v} every {n} at once, but patience usually wins.
    Clear labels and a simple routine save a surprising amount of effort.
    The cost of a {a} {n} has risen by about {pct} percent since {year}.
    A well-known example comes from {city}, where {x} {vd} {big} {ns} in one season.
    That figure sounds large, yet it is typical for a place of that size.
    Whatever you decide, {v} the {ns} with care.
    Good {ns} are not hard to find if you know where to look.
    Start with a {a} {n}, then add a {n2} once you feel confident.
    {x} who {v} {ns} regularly say the habit becomes second nature.
    More than {num} {x} took part in the study led by {person}.
    Their findings, published in {month} {year}, were modest but consistent.
    The {n} did not {v2} the {n2} as planned, so the team changed course.
    Several {x} we spoke to were sceptical at first.
    A practical tip: {v} the {n} before you {v2} the {ns2}.
    It rarely pays to rush, especially with a {a} {n}.
    Most of the time, a {a} {n} and a little common sense are enough.
    There is also a social side to this, which {x} often mention.
    On paper the plan looked simple; in practice the {ns} had other ideas.
    Thanks to {person}, the {ns} {place} are now far easier to {v}.
    Nobody in {city} seems to agree on the best {n}, and that is fine.
    Once the {ns} are {a}, the rest of the work moves quickly.
    If something goes wrong, the {n2} is usually to blame.
    The {count} most common mistakes all involve the {n}.
    {person} kept a diary of every {n} from {year} onwards.
    We will return to the {ns2} in the final section.
    Prices for {a} {ns} range from {num} to {big} dollars, depending on where you look.
    A {n} that is too {a} will rarely {v} the {n2} properly.
    Long before anyone wrote about it, {x} quietly {vd} {ns} {place}.
    The lesson here is simple: a {a} {n} rewards a little planning.
    Our own tests lasted {span} and involved {num} different {ns}.
    Oddly enough, the least {a} {n} gave the best result.
    Several factors explain this, and the {n2} is only one of them.
    Keeping track of every {n} by hand is slow but instructive.
    In {city}, {x} have their own name for a {a} {n}.
    This part covers the basics; the next goes into more detail.
    {person} remembers a {season} when every {n} {place} seemed to go wrong.
    I still {v} my {ns} the way my grandmother taught me.
    My first {n} was a disaster, and I learned more from it than from any book.
    Ask {count} {x} the same question and you will hear {count} different answers.
    The trend is clear even if the reasons behind it are not.
    Nobody has ever complained that a {n} was too {a}.
    A {a} {n} costs more up front but tends to last.
    The weekly meeting in {city} draws around {num} {x} on a good day.
    Every {n} we saw {place} had been {vp} by hand.
    Read the instructions twice; the second reading always turns up something new.
    Whether the {ns} are {a} or {a2} matters less than people claim.
    The first {span} are the hardest, and after that things settle down.
    It is fair to say the {n} has a reputation, not all of it deserved.
    Some of the best {ns} I have seen came from {city}.
    We counted {big} {ns} over {span}, more than twice the figure from {year}.
""")

HEADINGS: list[str] = lines("""
    Why the {n} matters
    A closer look at {a} {ns}
    How {x} {v} the {n}
    Common mistakes with {ns}
    What we learned about the {n}
    Getting started with {a} {ns}
    The {a} {n} in practice
    Final thoughts
    Background
    What the figures say
    A brief history of the {n}
    Practical tips
    Costs and timing
    What {x} recommend
    Tools you will need
    Where to begin
    Looking ahead
    Questions readers ask
    The case for {a} {ns}
    Lessons from {city}
    A note on {ns2}
    Step by step
    What can go wrong
    Before you start
    Key points
    Mistakes we made
    The long view
    A simple checklist
""")

TITLES: list[str] = lines("""
    How to {v} a {a} {n}: a practical guide
    Everything you need to know about {a} {ns}
    Why {x} {v} {ns} differently
    The {a} {n}: {n2} and beyond
    {count} lessons about {ns} from {x}
    A beginner's guide to the {a} {n}
    What {a} {ns} can teach us
    Inside the world of {ns}
    The quiet comeback of the {a} {n}
    {ns} in {city}: a field report
    What {year} taught us about {ns}
    Notes on the {n}, {span} later
    Do you really need a {a} {n}?
    The trouble with {a} {ns}
    How {person} learned to {v} {ns}
    A {season} of {a} {ns}
""")

LIST_ITEMS: list[str] = lines("""
    Choose a {a} {n} and check it twice
    Keep the {ns2} {a2}
    {v} the {n} early in the day
    Write down how many {ns} you {v} each week
    Ask {x} what they would change
    Leave room for a {a} {n2}
    Budget {span} for the first attempt
    Compare at least {count} {ns} before deciding
    Avoid {a} {ns} if you are short of time
    Test one change at a time
    Note the date and the weather
    Keep spare {ns2} within reach
""")

# Openers and tails vary sentences; a page uses each at most once.
OPENERS: list[str] = lines("""
    In {year},
    Last {season},
    Since {year},
    For most {x},
    In practice,
    As a rule,
    Surprisingly,
    To be fair,
    At first,
    In {city},
    On balance,
    Sometimes,
    In recent years,
    By contrast,
    Meanwhile,
    Of course,
    Even so,
    Still,
    In many cases,
    For this reason,
    Put simply,
    Over the years,
    Now and then,
    During the {season},
    Every {weekday},
    Early on,
    Unfortunately,
    Fortunately,
    To our surprise,
    In our tests,
    More often than not,
    Admittedly,
    Looking closer,
    In one case,
    As {person} notes,
    By {month},
    Generally speaking,
    Interestingly,
""")
TAILS: list[str] = lines("""
    , at least in our experience
    , as {person} pointed out
    in most cases
    , which surprised {x}
    , according to a report from {year}
    , or so it seems
    , give or take a few
    , though opinions differ
    , at least for now
    , says {person}
    , as far as anyone can tell
    in {city} at least
    , weather permitting
    , to nobody's surprise
    , especially in {season}
    , which is encouraging
""")

# Low-quality pages: chatty filler, shouting, begging for clicks.
LOW_QUALITY_LINES: list[str] = lines("""
    CLICK HERE for more!!!
    best {n} ever!!!
    u wont believe this {n}
    OMG the {ns} r so {a}
    share if u agree
    follow for more {ns}
    dont forget to like and subscribe
    AMAZING {ns} you need NOW
    comment below what u think
    this {n} changed my life lol
    top secret {n} trick inside
    read this before its deleted
""")

FIRST_NAMES = words(
    "Anna Ben Clara David Elena Farid Grace Hugo Ines Jonas Kira Leo Maya Nils Olga Pablo Rosa Sami Tara Viktor "
    "Amara Bruno Chloe Dmitri Esther Felix Greta Hassan Ingrid Jamal Keiko Lucia Marcus Nadia Oscar Priya Quentin "
    "Rhea Stefan Yusuf"
)
LAST_NAMES = words(
    "Adler Brooks Costa Dumont Eriksen Fischer Garcia Hughes Ivanova Jensen Kowalski Lindqvist Moreau Novak Okafor "
    "Petrov Rossi Silva Tanaka Weber Abbott Bianchi Carver Delgado Ellison Fontaine Gallagher Haddad Iqbal Keller "
    "Larsen Mendes Nakamura Oyelaran Pritchard Quinn Reyes Sorensen Thornton Varga"
)
CITIES = words(
    "Leeds Lyon Porto Bologna Ghent Krakow Utrecht Bergen Toledo Galway Dresden Seville Tampere Brno Aarhus Cork "
    "Halifax Dundee Graz Nantes Malaga Turin Bristol Wellington Adelaide Montreal Denver Portland Austin Savannah"
)
MONTHS = words("January February March April May June July August September October November December")
WEEKDAYS = words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
SEASONS = words("spring summer autumn winter")
NUMBER_WORDS = words("two three four five six seven eight nine")
SPANS = lines("""
    three weeks
    a fortnight
    six months
    two summers
    most of a year
    ten days
    four months
    a long weekend
""")
CENTURIES = words("twelfth thirteenth fourteenth fifteenth sixteenth seventeenth")
QUARTERS = words("first second third fourth")
