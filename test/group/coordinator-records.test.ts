/**
 * `__consumer_offsets` record formats (byte layouts as Kafka writes them) and the group -> partition hash.
 */
import { describe, expect, it } from 'vitest';
import { Writer } from '../../protocol/primitives.js';
import {
  decodeCoordinatorRecord,
  groupMetadataKey,
  groupMetadataValue,
  javaStringHashCode,
  offsetCommitKey,
  offsetCommitValue,
  partitionForGroup,
} from '../../src/group/coordinator-records.js';

describe('__consumer_offsets records', () => {
  it('writes OffsetCommitKey v1 and OffsetCommitValue v3 byte for byte', () => {
    expect(offsetCommitKey('g', 't', 5).toString('hex')).toBe('0001' + '000167' + '000174' + '00000005');
    const value = offsetCommitValue({ offset: 42n, leaderEpoch: 7, metadata: 'm', commitTimestampMs: 1000, expireTimestampMs: -1 });
    expect(value.toString('hex')).toBe('0003' + '000000000000002a' + '00000007' + '00016d' + '00000000000003e8');
  });

  it('writes GroupMetadataKey v2 and a GroupMetadataValue v3 that decodes back', () => {
    expect(groupMetadataKey('grp').toString('hex')).toBe('0002' + '0003' + Buffer.from('grp').toString('hex'));
    const value = {
      protocolType: 'consumer',
      generation: 3,
      protocol: 'range',
      leader: 'm-1',
      currentStateTimestamp: 123n,
      members: [{ memberId: 'm-1', groupInstanceId: 'i-1', clientId: 'c', clientHost: '/127.0.0.1', rebalanceTimeout: 60000, sessionTimeout: 30000, subscription: Buffer.from([1, 2]), assignment: Buffer.from([3]) }],
    };
    const bytes = groupMetadataValue(value);
    expect(bytes.readInt16BE(0)).toBe(3);
    expect(decodeCoordinatorRecord(groupMetadataKey('grp'), bytes)).toEqual({ type: 'group', group: 'grp', value });
    expect(decodeCoordinatorRecord(groupMetadataKey('grp'), null)).toEqual({ type: 'group', group: 'grp', value: null });
  });

  it('reads the older value versions Kafka wrote (v1 with expireTimestamp), key version 0, and tombstones', () => {
    const w = new Writer();
    w.int16(1).int64(10n).string('meta', false).int64(5n).int64(99n);
    const key0 = Buffer.from(offsetCommitKey('g', 't', 0));
    key0.writeInt16BE(0, 0);
    expect(decodeCoordinatorRecord(key0, w.toBuffer())).toEqual({
      type: 'offset',
      group: 'g',
      topic: 't',
      partition: 0,
      value: { offset: 10n, leaderEpoch: -1, metadata: 'meta', commitTimestampMs: 5, expireTimestampMs: 99 },
    });
    expect(decodeCoordinatorRecord(offsetCommitKey('g', 't', 0), null)).toEqual({ type: 'offset', group: 'g', topic: 't', partition: 0, value: null });
  });

  it('skips record types it does not use (KIP-848 keys)', () => {
    const w = new Writer();
    w.int16(3).string('g', false);
    expect(decodeCoordinatorRecord(w.toBuffer(), Buffer.from([0, 0]))).toBeNull();
  });

  it('places groups as Kafka does: Utils.abs(String.hashCode) % partitions', () => {
    expect(javaStringHashCode('test')).toBe(3556498);
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('hello')).toBe(99162322);
    // UTF-16 code units, as Java: 'é' is 233.
    expect(javaStringHashCode('héllo')).toBe(103094734);
    // Its hashCode is Integer.MIN_VALUE, which Kafka's Utils.abs maps to 0.
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0);
    expect(partitionForGroup('test', 50)).toBe(48);
    expect(javaStringHashCode('my-group')).toBeLessThan(0);
    expect(partitionForGroup('my-group', 50)).toBe(Math.abs(javaStringHashCode('my-group')) % 50);
  });
});
