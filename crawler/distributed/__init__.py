"""Many crawl workers, one writer, over Redis (`cluster`), and the loopback Redis the tests and
benchmarks start (`localredis`). Imports the chain, the sites and the storage; never
`crawler.crawl`'s runner or the commands.
"""
