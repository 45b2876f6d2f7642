/**
 * SnapshotFooterRecord: the value of the SNAPSHOT_FOOTER control record (ControlRecordType 4) that closes
 * every KRaft snapshot; a snapshot without it is incomplete. Kafka 4.4 spec (kafka-clients), version 0,
 * flexible; apiKey -1: a `data` spec has none.
 */
import { message } from '../schema.js';

export const SnapshotFooterRecord = message({
  name: 'SnapshotFooterRecord',
  apiKey: -1,
  type: 'data',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [{ name: 'version', type: 'int16', versions: '0+' }],
});
