"""``ENGINE: "rds_iam_auth.integrations.django.postgresql"``: Django's PostgreSQL backend
(psycopg 3, or psycopg2 where psycopg 3 is not installed) logging in with IAM tokens."""
