/**
 * SnapshotHeaderRecord: the value of the SNAPSHOT_HEADER control record (ControlRecordType 3) that opens
 * every KRaft snapshot (`.checkpoint` file). Kafka 4.4 spec (kafka-clients), version 0, flexible; apiKey
 * -1: a `data` spec has none. Written and read at version 0 with no version prefix.
 */
import { message } from '../schema.js';

export const SnapshotHeaderRecord = message({
  name: 'SnapshotHeaderRecord',
  apiKey: -1,
  type: 'data',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'version', type: 'int16', versions: '0+' },
    { name: 'lastContainedLogTimestamp', type: 'int64', versions: '0+', about: 'append time of the last record the snapshot covers' },
  ],
});
