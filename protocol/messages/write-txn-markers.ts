/**
 * WriteTxnMarkers (key 27): the transaction coordinator asks partition leaders to write commit / abort
 * control batches (KIP-98). Broker-to-broker. Kafka 3.9 spec (versions 0-1); v1 is the first flexible
 * version (KIP-482).
 */
import { api, message } from '../schema.js';

export const WriteTxnMarkersRequest = message({
  name: 'WriteTxnMarkersRequest',
  apiKey: 27,
  type: 'request',
  validVersions: '0-1',
  flexibleVersions: '1+',
  fields: [
    {
      name: 'markers', type: '[]WritableTxnMarker', versions: '0+',
      fields: [
        { name: 'producerId', type: 'int64', versions: '0+' },
        { name: 'producerEpoch', type: 'int16', versions: '0+' },
        { name: 'transactionResult', type: 'bool', versions: '0+' },
        {
          name: 'topics', type: '[]WritableTxnMarkerTopic', versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'partitionIndexes', type: '[]int32', versions: '0+' },
          ],
        },
        { name: 'coordinatorEpoch', type: 'int32', versions: '0+' },
      ],
    },
  ],
});

export const WriteTxnMarkersResponse = message({
  name: 'WriteTxnMarkersResponse',
  apiKey: 27,
  type: 'response',
  validVersions: '0-1',
  flexibleVersions: '1+',
  fields: [
    {
      name: 'markers', type: '[]WritableTxnMarkerResult', versions: '0+',
      fields: [
        { name: 'producerId', type: 'int64', versions: '0+' },
        {
          name: 'topics', type: '[]WritableTxnMarkerTopicResult', versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            {
              name: 'partitions', type: '[]WritableTxnMarkerPartitionResult', versions: '0+',
              fields: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'errorCode', type: 'int16', versions: '0+' },
              ],
            },
          ],
        },
      ],
    },
  ],
});

export const WriteTxnMarkers = api('WriteTxnMarkers', WriteTxnMarkersRequest, WriteTxnMarkersResponse);
