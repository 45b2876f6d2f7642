#!/usr/bin/env bash
# Tests parse.py, the rules run.sh applies to Samsa, on what Apache Kafka 4.4 itself printed for a 3-node
# cluster (reference/, recorded by against-kafka.sh --record): every rule passes on Kafka's output, and
# fails on copies of it altered the way a wrong cluster would print (a voter missing, two leaders, a
# replica out of the ISR, a record missing from the metadata log...). run.sh runs it first; so does
# test/conformance/kraft-cluster-parse.test.ts (npm test). No Java needed.
set -uo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
REF="$DIR/reference"
# shellcheck source=/dev/null
source "$REF/cluster.env"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
bad=0
n=0

parse() { python3 "$DIR/parse.py" "$@"; }

# accepts DESCRIPTION RULE FILE ARGS...: the rule must pass
accepts() {
  local what="$1" out; shift; n=$((n + 1))
  if out="$(parse "$@")"; then echo "ok   accepts $what: $out"; else echo "FAIL rejects $what: $out"; bad=$((bad + 1)); fi
}

# rejects DESCRIPTION SED_SCRIPT RULE FILE ARGS...: the rule must fail on FILE edited by SED_SCRIPT (and
# the edit must change something)
rejects() {
  local what="$1" edit="$2" rule="$3" file="$4" out; shift 4; n=$((n + 1))
  local copy="$W/$(basename "$file")"
  sed -E "$edit" "$file" >"$copy"
  if cmp -s "$file" "$copy"; then echo "FAIL the edit for '$what' changes nothing"; bad=$((bad + 1)); return; fi
  if out="$(parse "$rule" "$copy" "$@")"; then echo "FAIL accepts $what: $out"; bad=$((bad + 1)); else echo "ok   rejects $what: $out"; fi
}

S="$REF/quorum-status.txt"
accepts 'Kafka describe --status' quorum-status "$S" "$NODE_IDS" "$VOTER_ENDPOINTS"
accepts 'Kafka describe --status (ids only)' quorum-status "$S" "$NODE_IDS"
accepts 'Kafka --bootstrap-controller describe --status' quorum-status "$REF/quorum-status-bootstrap-controller.txt" "$NODE_IDS" "$VOTER_ENDPOINTS"
rejects 'a leader that is not a voter' 's/^(LeaderId: +)[0-9]+/\17/' quorum-status "$S" "$NODE_IDS"
rejects 'no leader (-1)' 's/^(LeaderId: +)[0-9]+/\1-1/' quorum-status "$S" "$NODE_IDS"
rejects 'epoch 0' 's/^(LeaderEpoch: +)[0-9]+/\10/' quorum-status "$S" "$NODE_IDS"
rejects 'no HighWatermark line' '/^HighWatermark:/d' quorum-status "$S" "$NODE_IDS"
rejects 'voter 3 missing' 's/, \{"id": 3[^}]*\}//' quorum-status "$S" "$NODE_IDS"
rejects 'CurrentVoters not JSON' 's/^(CurrentVoters: +).*/\1[1,2,3/' quorum-status "$S" "$NODE_IDS"
rejects 'a wrong voter endpoint' 's/("id": 2, "endpoints": \["CONTROLLER:\/\/127.0.0.1:)[0-9]+/\11/' quorum-status "$S" "$NODE_IDS" "$VOTER_ENDPOINTS"
rejects 'an observer' 's/^(CurrentObservers: +).*/\1[{"id": 4}]/' quorum-status "$S" "$NODE_IDS"

R="$REF/quorum-replication.txt"
accepts 'Kafka describe --replication' quorum-replication "$R" "$NODE_IDS"
rejects 'two leaders' 's/Follower/Leader  /' quorum-replication "$R" "$NODE_IDS"
rejects 'no leader' 's/Leader  /Follower/' quorum-replication "$R" "$NODE_IDS"
rejects 'a voter missing' '$d' quorum-replication "$R" "$NODE_IDS"
rejects 'a Lag that is not a number' '3s/^([0-9]+ *\t[^\t]*\t[^\t]*\t)[0-9]+/\1x/' quorum-replication "$R" "$NODE_IDS"
rejects 'a leader with lag' '2s/^([0-9]+ *\t[^\t]*\t[^\t]*\t)0/\17/' quorum-replication "$R" "$NODE_IDS"
rejects 'a leader without a fetch time (-1)' '2s/^([0-9]+ *\t[^\t]*\t[^\t]*\t[^\t]*\t)[0-9]+/\1-1/' quorum-replication "$R" "$NODE_IDS"
rejects 'a follower never caught up (-1)' '4s/^([0-9]+ *\t[^\t]*\t[^\t]*\t[^\t]*\t[^\t]*\t)[0-9]+/\1-1/' quorum-replication "$R" "$NODE_IDS"
rejects 'a column renamed' '1s/LogEndOffset/EndOffset/' quorum-replication "$R" "$NODE_IDS"

T="$REF/topics-describe.txt"
accepts 'Kafka kafka-topics --describe' topics-describe "$T" kraft-rf3 3 "$NODE_IDS"
rejects 'a replica out of the ISR' '/Partition: 1/s/Isr: ([0-9]),([0-9]),([0-9])/Isr: \1,\2/' topics-describe "$T" kraft-rf3 3 "$NODE_IDS"
rejects 'two replicas' '/Partition: 2/s/Replicas: ([0-9]),([0-9]),([0-9])/Replicas: \1,\2/' topics-describe "$T" kraft-rf3 3 "$NODE_IDS"
rejects 'a partition missing' '/Partition: 2/d' topics-describe "$T" kraft-rf3 3 "$NODE_IDS"
rejects 'a leader that is not the preferred replica' '/Partition: 0/s/Leader: ([0-9])\tReplicas: ([0-9]),([0-9]),([0-9])/Leader: \3\tReplicas: \2,\3,\4/' topics-describe "$T" kraft-rf3 3 "$NODE_IDS"
rejects 'no leader (none)' '/Partition: 0/s/Leader: [0-9]/Leader: none/' topics-describe "$T" kraft-rf3 3 "$NODE_IDS"
rejects 'ReplicationFactor 1' 's/ReplicationFactor: 3/ReplicationFactor: 1/' topics-describe "$T" kraft-rf3 3 "$NODE_IDS"

D="$REF/dump-log.txt"
DT="$REF/dump-log-topics-describe.txt"
accepts 'Kafka kafka-dump-log --cluster-metadata-decoder' dump-log "$D" kraft-dump 3 "$NODE_IDS" "$DT"
rejects 'no TOPIC_RECORD' '/"TOPIC_RECORD".*"kraft-dump"/d' dump-log "$D" kraft-dump 3 "$NODE_IDS"
TID="$(grep -o '"name":"kraft-dump","topicId":"[^"]*' "$D" | sed 's/.*"topicId":"//')"
rejects 'a PARTITION_RECORD missing' "/\"PARTITION_RECORD\".*\"partitionId\":1,\"topicId\":\"$TID\"/d" dump-log "$D" kraft-dump 3 "$NODE_IDS"
rejects 'broker 2 not registered' '/"REGISTER_BROKER_RECORD".*"brokerId":2,/d' dump-log "$D" kraft-dump 3 "$NODE_IDS"
rejects 'an exception' '$a Exception in thread "main" org.apache.kafka.common.errors.CorruptRecordException' dump-log "$D" kraft-dump 3 "$NODE_IDS"
rejects 'an invalid batch' '0,/isvalid: true/s/isvalid: true/isvalid: false/' dump-log "$D" kraft-dump 3 "$NODE_IDS"
rejects 'a payload that is not JSON' '0,/payload: \{/s/payload: \{/payload: {{/' dump-log "$D" kraft-dump 3 "$NODE_IDS"
rejects 'replicas other than kafka-topics shows' "/\"PARTITION_RECORD\".*\"partitionId\":0,\"topicId\":\"$TID\"/"'s/"replicas":\[([0-9]),([0-9]),([0-9])\]/"replicas":[\3,\2,\1]/' dump-log "$D" kraft-dump 3 "$NODE_IDS" "$DT"

M="$REF/leader-election-moved.txt"
accepts "Kafka --describe after a failover and the node's return" partition-moved "$M" kraft-elect 0 "$NODE_IDS"
rejects 'led by its preferred replica already' '/Partition: 0/s/Leader: ([0-9])\tReplicas: ([0-9])/Leader: \2\tReplicas: \2/' partition-moved "$M" kraft-elect 0 "$NODE_IDS"
rejects 'the preferred replica not back in the ISR' '/Partition: 0/s/Isr: ([0-9]),([0-9]),([0-9])/Isr: \1,\2/' partition-moved "$M" kraft-elect 0 "$NODE_IDS"
rejects 'no leader (none)' '/Partition: 0/s/Leader: [0-9]/Leader: none/' partition-moved "$M" kraft-elect 0 "$NODE_IDS"

E="$REF/leader-election-json.txt"
accepts 'Kafka kafka-leader-election --path-to-json-file' leader-election "$E" kraft-elect-0 kraft-elect-1,kraft-elect-2
rejects 'nothing elected' '/^Successfully completed/d' leader-election "$E" kraft-elect-0 kraft-elect-1,kraft-elect-2
rejects 'another partition elected too' 's/for partitions kraft-elect-0$/for partitions kraft-elect-0, kraft-elect-1/' leader-election "$E" kraft-elect-0 kraft-elect-2
rejects 'an election error' '$a Error completing leader election (PREFERRED) for partition: kraft-elect-1: org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: The preferred leader was not available.' leader-election "$E" kraft-elect-0 kraft-elect-1,kraft-elect-2
rejects 'a partition missing from the already-elected line' 's/^(Valid replica already elected for partitions )[^,]*, /\1/' leader-election "$E" kraft-elect-0 kraft-elect-1,kraft-elect-2
A="$REF/leader-election-again.txt"
accepts 'Kafka kafka-leader-election for a partition already led by its preferred replica' leader-election "$A" '' kraft-elect-0
rejects 'elected again' 's/^Valid replica already elected for/Successfully completed leader election (PREFERRED) for/' leader-election "$A" '' kraft-elect-0
accepts 'Kafka --describe after the election' topics-describe "$REF/leader-election-after.txt" kraft-elect 3 "$NODE_IDS"

echo "test-parse: $((n - bad)) of $n as expected"
[ "$bad" -eq 0 ]
