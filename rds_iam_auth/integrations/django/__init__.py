"""Django database backends that log in with IAM tokens over verified TLS.

``pip install 'rds-iam-auth[django]'`` plus the driver (``[psycopg]``, ``[psycopg2]`` or
``[mysqlclient]``), then in ``settings.py``::

    DATABASES = {
        "default": {
            "ENGINE": "rds_iam_auth.integrations.django.postgresql",  # or ...django.mysql
            "HOST": "mydb.abc123.us-east-1.rds.amazonaws.com",
            "USER": "jane_doe",
            "NAME": "app",
        }
    }

``HOST``, ``PORT``, ``USER`` and ``NAME`` mean what they always mean; ``PASSWORD`` stays empty.
``OPTIONS`` takes ours next to Django's and the driver's:

- ``region``: signing region for hosts that do not name one (IP addresses, CNAMEs).
- ``ca``: CA bundle path, ``"certifi"`` or ``"system"`` (default: the RDS bundle we ship).
- ``tls``: ``"verify-full"`` (default) or ``"verify-ca"``.
- ``profile``: AWS profile for the credentials (default: the standard credential chain).
- ``address``: where to dial instead of HOST (``"127.0.0.1:15432"``: tunnels, port-forwards,
  CNAMEs), while the token and TLS stay for HOST. PostgreSQL only.
- ``connector``: a :class:`~rds_iam_auth.Connector`, or the import path
  ``"package.module:name"`` of one or of a function returning one, instead of the four
  Connector settings above (tests use it to inject ``StaticSigner`` / ``FakeClock``).

Every new connection gets a current token from one Connector per distinct setting (shared by
all threads and aliases, so the token is signed once per lifetime); connections Django opens
itself retry once with a fresh token if the server refuses the cached one.
``OPTIONS["pool"]`` (PostgreSQL, psycopg 3 with psycopg_pool 3.3+) works too: the pool asks for
current keywords for every connection it opens. ``manage.py dbshell`` starts ``psql`` /
``mysql`` with a current token (never on the command line) and verified TLS.
"""
