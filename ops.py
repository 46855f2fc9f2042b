"""What the operations commands load when run from cron or by hand: the app's database, settings and
commands without its pages and API (``flask --app ops audit verify``). ``flask --app wsgi`` runs the
same commands with everything loaded."""

from webapp import create_app

app = create_app(pages=False)
