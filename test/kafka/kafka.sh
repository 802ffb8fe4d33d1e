#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for tests and CI.
#
#   bash test/kafka/kafka.sh start    # fetch jars once, format fresh storage, start, wait until ready
#   bash test/kafka/kafka.sh status   # exit 0 if running (prints KAFKA_BROKERS=...), 3 if not
#   bash test/kafka/kafka.sh stop     # SIGTERM (SIGKILL after 30 s), then delete the data dir
#   bash test/kafka/kafka.sh restart  # SIGTERM, then start again on the same data (an outage that keeps it)
#   bash test/kafka/kafka.sh libs     # only fetch the jars (e.g. to warm a CI cache)
#   bash test/kafka/kafka.sh tool CLASS ARGS...   # run a Kafka CLI class on the same classpath, e.g.
#        tool org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:9092 --list
#
# Env: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_START_TIMEOUT (90 s),
#      KAFKA_HEAP_OPTS (-Xms256m -Xmx512m), KAFKA_CLUSTER_ID (fixed), JAVA (java).
# Binds to 127.0.0.1 only. See test/kafka/README.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM="$SCRIPT_DIR/pom.xml"
CACHE="$ROOT/.cache/kafka"
LIBS="$CACHE/libs"
MARKER="$LIBS/.complete"

PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
# 16 bytes "chunkline-test-1", base64url: any fixed valid id will do, the storage is fresh every start.
CLUSTER_ID="${KAFKA_CLUSTER_ID:-Y2h1bmtsaW5lLXRlc3QtMQ}"
JAVA="${JAVA:-java}"

DATA="$CACHE/data-$PORT"
PROPS="$CACHE/server-$PORT.properties"
LOG="$CACHE/kafka-$PORT.log"
PIDFILE="$CACHE/kafka-$PORT.pid"
READY_LINE="Kafka Server started"

die() { echo "kafka.sh: $*" >&2; exit 1; }

pom_value() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$POM" | head -n 1; }
KAFKA_VERSION="$(pom_value kafka.version)"

# --- jars --------------------------------------------------------------------------------------

marker_text() {
  # The version plus a hash of the pom: any change to the pom (log4j version, exclusions) refetches.
  echo "kafka_2.13 $KAFKA_VERSION pom-sha256 $(sha256sum "$POM" | cut -d' ' -f1)"
}

ensure_libs() {
  local want
  want="$(marker_text)"
  if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn (Maven) is needed to fetch the Kafka jars"
  mkdir -p "$CACHE"
  # One fetch at a time, even with parallel starts on other ports.
  exec 8>"$CACHE/.libs.lock"
  flock 8
  if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$want" ]]; then
    flock -u 8
    return 0
  fi
  echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION jars into .cache/kafka/libs (first run only)" >&2
  local tmp="$CACHE/libs.tmp.$$"
  rm -rf "$tmp"
  local mvnlog="$CACHE/mvn.log"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$tmp" >"$mvnlog" 2>&1; then
    cat "$mvnlog" >&2
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed (output above, also in $mvnlog)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"; }
  echo "$want" >"$tmp/.complete"
  # Swap whole directories so jars of an older version never mix with the new ones.
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  flock -u 8
}

# --- process helpers ---------------------------------------------------------------------------

# The pid from the pid file, if that process is alive and is our broker (not a reused pid).
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $PROPS" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_props() {
  cat >"$PROPS" <<EOF
# Written by test/kafka/kafka.sh: one KRaft node that is both broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=3
# A single node cannot hold 3 replicas of the internal topics.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Classic consumer groups: no 3 s wait before the first rebalance.
group.initial.rebalance.delay.ms=0
EOF
}

# --- subcommands -------------------------------------------------------------------------------

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$PORT"; then
      echo "kafka.sh: already running (pid $pid)" >&2
      echo "KAFKA_BROKERS=127.0.0.1:$PORT"
      return 0
    fi
    die "a broker (pid $pid) is running for port $PORT but does not answer; run: bash test/kafka/kafka.sh stop"
  fi
  port_open "$PORT" && die "127.0.0.1:$PORT is already in use by another process (set KAFKA_PORT)"
  port_open "$CONTROLLER_PORT" && die "127.0.0.1:$CONTROLLER_PORT is already in use (set KAFKA_CONTROLLER_PORT)"
  command -v "$JAVA" >/dev/null || die "java (17 or newer) is needed"

  ensure_libs

  local t0=$SECONDS
  mkdir -p "$CACHE"
  rm -rf "$DATA" "$PIDFILE"
  write_props
  : >"$LOG"

  local cp="$LIBS/*"
  local log4j="-Dlog4j2.configurationFile=$SCRIPT_DIR/log4j2.properties"
  # Fresh storage on every start: tests never see a previous run's topics or offsets.
  # (C1 only: this JVM lives for a second, full JIT would only slow it down.)
  if ! "$JAVA" -XX:TieredStopAtLevel=1 -Xmx256m "$log4j" -cp "$cp" kafka.tools.StorageTool format \
      --config "$PROPS" --cluster-id "$CLUSTER_ID" --standalone >>"$LOG" 2>&1; then
    tail -n 50 "$LOG" >&2
    die "formatting $DATA failed"
  fi

  launch_and_wait "$t0"
}

# Starts the JVM on the formatted storage in $DATA and waits until it serves (or fails the script).
launch_and_wait() {
  local t0="$1"
  local cp="$LIBS/*"
  local log4j="-Dlog4j2.configurationFile=$SCRIPT_DIR/log4j2.properties"
  # setsid: the broker outlives this script and is not hit by a Ctrl-C meant for the caller.
  # The inner shell writes its own pid and then becomes the JVM (exec), so the pid file is the JVM's.
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' kafka-start "$PIDFILE" \
    "$JAVA" $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true "$log4j" -cp "$cp" kafka.Kafka "$PROPS" \
    </dev/null >>"$LOG" 2>&1 &

  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if [[ -s "$PIDFILE" ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "kafka.sh: the broker exited during start-up; last 50 lines of $LOG:" >&2
      tail -n 50 "$LOG" >&2
      rm -f "$PIDFILE"
      exit 1
    fi
    if grep -qF "$READY_LINE" "$LOG" && port_open "$PORT"; then
      echo "kafka.sh: Kafka $KAFKA_VERSION ready on 127.0.0.1:$PORT after $((SECONDS - t0)) s (pid $(cat "$PIDFILE"), log $LOG)" >&2
      echo "KAFKA_BROKERS=127.0.0.1:$PORT"
      return 0
    fi
    sleep 0.25
  done
  echo "kafka.sh: the broker was not ready after ${START_TIMEOUT} s; last 50 lines of $LOG:" >&2
  tail -n 50 "$LOG" >&2
  cmd_stop >/dev/null 2>&1 || true
  exit 1
}

# SIGTERM to the JVM, and SIGKILL if it is still alive after $2 seconds; returns when it is gone.
terminate() {
  local pid="$1" grace="$2" i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  echo "kafka.sh: pid $pid still alive after $grace s, sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
}

# Stops the JVM gracefully and starts it again on the same storage: topics, committed offsets and
# transaction state survive (the outage of a broker restart, as opposed to stop + start).
cmd_restart() {
  local pid
  pid="$(running_pid)" || die "not running on port $PORT; nothing to restart"
  local t0=$SECONDS
  terminate "$pid" 60
  rm -f "$PIDFILE"
  echo "kafka.sh: stopped pid $pid after $((SECONDS - t0)) s; starting again on the same data" >&2
  launch_and_wait "$t0"
}

cmd_stop() {
  local pid
  if pid="$(running_pid)"; then
    terminate "$pid" 30
    echo "kafka.sh: stopped (pid $pid)" >&2
  else
    echo "kafka.sh: not running on port $PORT" >&2
  fi
  rm -f "$PIDFILE"
  rm -rf "$DATA"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$PORT"; then
      echo "kafka.sh: running (pid $pid, Kafka $KAFKA_VERSION)" >&2
      echo "KAFKA_BROKERS=127.0.0.1:$PORT"
      return 0
    fi
    echo "kafka.sh: process $pid is alive but 127.0.0.1:$PORT does not answer" >&2
    return 1
  fi
  echo "kafka.sh: not running on port $PORT" >&2
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_restart ;;
  status) cmd_status ;;
  libs) ensure_libs; echo "$LIBS" ;;
  tool)
    shift
    [[ $# -ge 1 ]] || die "usage: bash test/kafka/kafka.sh tool CLASS [ARGS...]"
    ensure_libs
    exec "$JAVA" -XX:TieredStopAtLevel=1 -Xmx256m -Dkafka.log.level="${KAFKA_TOOL_LOG_LEVEL:-warn}" \
      -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2.properties" -cp "$LIBS/*" "$@"
    ;;
  *)
    echo "usage: bash test/kafka/kafka.sh start|stop|restart|status|libs|tool CLASS ARGS..." >&2
    exit 2
    ;;
esac
