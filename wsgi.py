"""What gunicorn and `flask --app wsgi` load."""

import gc

from webapp import create_app

app = create_app()

# A server process keeps the app, its diagrams and its caches for its whole life, and a long case
# page allocates tens of thousands of short-lived objects. With CPython's default thresholds (700
# allocations) those pages run the full collector over the long-lived heap several times each,
# doubling their slowest times (bench/scale.py: the 900-event case page's p95). Objects alive now
# are moved out of the collector's way, and it runs after 50,000 allocations instead of 700.
gc.freeze()
gc.set_threshold(50_000, 20, 100)
