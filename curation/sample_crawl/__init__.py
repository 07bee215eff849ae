"""sample_crawl"""
