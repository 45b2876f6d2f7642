/**
 * DescribeCluster (60), versions 0-1 (KIP-700): the cluster id, the controller id and the brokers, for
 * admin clients (Java's describeCluster, kafka-cluster, confluent-kafka-python's describe_cluster).
 * - The brokers are the image's unfenced registrations (a single node: itself), and the controller id is
 *   the image's (src/broker/metadata-loader.ts setController).
 * - v1 (KIP-919): endpointType must be 1 (BROKER); 2 (CONTROLLER) is MISMATCHED_ENDPOINT_TYPE and any other
 *   value UNSUPPORTED_ENDPOINT_TYPE (both INVALID_REQUEST at v0), with Kafka's messages.
 * - includeClusterAuthorizedOperations: without an authorizer every operation is allowed, so the answer is
 *   Kafka's bit set of all CLUSTER operations (CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS,
 *   ALTER_CONFIGS, IDEMPOTENT_WRITE); otherwise Kafka's "not requested" value.
 */
import { DescribeCluster } from '../../protocol/messages/describe-cluster.js';
import { ErrorCode } from '../../protocol/errors.js';
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_OPERATIONS } from '../broker/authorized-operations.js';
import { defineHandler } from './types.js';

const ENDPOINT_TYPE_BROKER = 1;
const ENDPOINT_TYPE_CONTROLLER = 2;
const ENDPOINT_TYPE_NAMES: Record<number, string> = { [ENDPOINT_TYPE_BROKER]: 'BROKER', [ENDPOINT_TYPE_CONTROLLER]: 'CONTROLLER' };

export const describeClusterHandler = defineHandler(DescribeCluster, {
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const v0 = ctx.apiVersion === 0;
    const requested = ctx.apiVersion >= 1 ? req.endpointType : ENDPOINT_TYPE_BROKER;
    const error = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0, errorCode, errorMessage, endpointType: ENDPOINT_TYPE_BROKER, clusterId: '', controllerId: -1, brokers: [], clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    });
    if (ENDPOINT_TYPE_NAMES[requested] === undefined) {
      return error(v0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, `Unsupported endpoint type ${requested}`);
    }
    if (requested !== ENDPOINT_TYPE_BROKER) {
      return error(v0 ? ErrorCode.INVALID_REQUEST : ErrorCode.MISMATCHED_ENDPOINT_TYPE, `The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type ${ENDPOINT_TYPE_NAMES[requested]}`);
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: ENDPOINT_TYPE_BROKER,
      clusterId: broker.config.clusterId,
      controllerId: broker.image.controllerId,
      brokers: [...broker.image.brokers.values()].filter((b) => !b.fenced).map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED,
    };
  },
});
