#!/usr/bin/env bash
# Generates the Strimzi KafkaTopic CustomResourceDefinition (with its OpenAPI v3 schema) from Strimzi's
# API model and CRD generator (Maven Central, version in deploy/strimzi/pom.xml), into
# .cache/strimzi/kafkatopic-crd-<version>.yaml, and prints that path. Cached: reruns are instant.
# Needs java and mvn. No npm package carries the Strimzi schemas, hence this.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
POM="$ROOT/deploy/strimzi/pom.xml"
CACHE="$ROOT/.cache/strimzi"
VERSION="$(sed -n 's:.*<strimzi.version>\(.*\)</strimzi.version>.*:\1:p' "$POM" | head -n 1)"
OUT="$CACHE/kafkatopic-crd-$VERSION.yaml"

if [[ -s "$OUT" ]]; then
  echo "$OUT"
  exit 0
fi
command -v mvn >/dev/null || { echo "strimzi-crd.sh: mvn (Maven) is needed" >&2; exit 1; }
command -v java >/dev/null || { echo "strimzi-crd.sh: java is needed" >&2; exit 1; }
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [[ -s "$OUT" ]]; then
  echo "$OUT"
  exit 0
fi
mvn -q -B -Dstyle.color=never -f "$POM" dependency:build-classpath -Dmdep.outputFile="$CACHE/classpath.txt" >&2
TMP="$OUT.tmp"
java -cp "$(cat "$CACHE/classpath.txt")" io.strimzi.crdgenerator.CrdGenerator \
  --yaml --crd-api-version v1 --api-versions v1beta2 \
  io.strimzi.api.kafka.model.topic.KafkaTopic="$TMP" 2> >(grep -v '^SLF4J' >&2)
mv "$TMP" "$OUT"
echo "$OUT"
