"""``ENGINE: "rds_iam_auth.integrations.django.mysql"``: Django's MySQL / MariaDB backend
(mysqlclient) logging in with IAM tokens."""
