"""Program records: schema (schema.py), queries by topic (farmers, payments, trainings, standards,
privacy, consents, phone_releases, requests, retention), demo seeding (seed.py) and CSV loading
(csv_import.py)."""
