#!/bin/sh
# Temporal's two databases and their schemas, by the server's own SQL tool
# with the schema files of the same release; idempotent (the same steps as
# setupTemporalSchemas in stack/temporalCluster.ts). The password stays out
# of argv: the tool reads SQL_PASSWORD.
set -eu
export SQL_PLUGIN=postgres12 SQL_HOST="$TEMPORAL_DB_HOST" SQL_PORT="${TEMPORAL_DB_PORT:-5432}" \
  SQL_USER="$TEMPORAL_DB_USER" SQL_PASSWORD="$TEMPORAL_DB_PASSWORD"
for pair in "${TEMPORAL_DB_NAME:-temporal}:temporal" "${TEMPORAL_VISIBILITY_DB_NAME:-temporal_visibility}:visibility"; do
  db=${pair%%:*}
  schema=${pair##*:}
  SQL_DATABASE=$db temporal-sql-tool --plugin postgres12 create-database --defaultdb postgres
  SQL_DATABASE=$db temporal-sql-tool --plugin postgres12 setup-schema -v 0.0
  SQL_DATABASE=$db temporal-sql-tool --plugin postgres12 update-schema -d "/etc/temporal/schema/postgresql/v12/$schema/versioned"
done
