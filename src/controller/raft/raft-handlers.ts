/**
 * The Raft RPCs as served on the CONTROLLER listener: Vote (52), BeginQuorumEpoch (53), EndQuorumEpoch
 * (54), Fetch (1) and FetchSnapshot (59, KIP-630) on `__cluster_metadata-0` and DescribeQuorum (55), each decoding the wire request into
 * the core's form (wire.ts), asking the RaftNode and encoding its answer. Fetch answers carry the log's
 * real record batches (one per proposal, the same bytes as on disk), so a Kafka observer or
 * kafka-metadata-quorum can read them, and (Fetch v16+, FetchSnapshot v1+) the CONTROLLER endpoint of the
 * leader they name in NodeEndpoints, where an observer that only knows bootstrap servers goes next (KIP-853).
 *
 * Handlers take a ControllerRequestContext, the part of the broker's RequestContext they use; a
 * RequestContext is one, so these entries also fit the broker's dispatcher (src/handlers/types.ts). For a
 * listener without a Broker, ControllerDispatcher frames, decodes and answers them itself, with an
 * ApiVersions that lists exactly the handlers it serves (the same rules as src/server/dispatcher.ts).
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../../protocol/errors.js';
import { peekRequestHeader, readRequestHeader, responseHeaderVersion, writeResponseHeader, type RequestHeader } from '../../../protocol/headers.js';
import { ApiVersions } from '../../../protocol/messages/api-versions.js';
import { BeginQuorumEpoch } from '../../../protocol/messages/begin-quorum-epoch.js';
import { DescribeCluster } from '../../../protocol/messages/describe-cluster.js';
import { DescribeQuorum } from '../../../protocol/messages/describe-quorum.js';
import { EndQuorumEpoch } from '../../../protocol/messages/end-quorum-epoch.js';
import { Fetch } from '../../../protocol/messages/fetch.js';
import { FetchSnapshot } from '../../../protocol/messages/fetch-snapshot.js';
import { Vote } from '../../../protocol/messages/vote.js';
import { ProtocolError, Reader, Writer } from '../../../protocol/primitives.js';
import type { ApiMessages, MessageDecl, MessageInput, MessageValue } from '../../../protocol/schema.js';
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_OPERATIONS } from '../../broker/authorized-operations.js';
import type { Connection, FrameHandler } from '../../server/connection.js';
import type { RaftNode } from './raft-node.js';
import type { FetchSnapshotResponse } from './messages.js';
import * as wire from './wire.js';
import { traceValue } from '../../server/trace-decode.js';

/** What a controller-listener handler needs of its request (a subset of the broker's RequestContext). */
export interface ControllerRequestContext {
  readonly header: RequestHeader;
  readonly apiVersion: number;
  readonly connectionId: number;
  readonly logger: Logger;
  closeConnection(reason: string): void;
}

export interface ControllerHandler<Req extends MessageDecl = MessageDecl, Res extends MessageDecl = MessageDecl> {
  readonly api: ApiMessages<Req, Res>;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(ctx: ControllerRequestContext, request: MessageValue<Req>): Promise<MessageInput<Res> | null>;
}

/** The type-erased form a dispatcher works with. */
export interface AnyControllerHandler {
  readonly api: ApiMessages;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(ctx: ControllerRequestContext, request: unknown): Promise<unknown>;
}

export function defineControllerHandler<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, spec: Omit<ControllerHandler<Req, Res>, 'api'>): AnyControllerHandler {
  return { api, ...spec } as unknown as AnyControllerHandler;
}

/**
 * The Raft handlers for `node` (ApiVersions comes from the dispatcher that mounts them).
 * `controllerListenerName` (the first of controller.listener.names) names the voters' endpoints in
 * DescribeQuorum v2's Nodes, which kafka-metadata-quorum prints as `CONTROLLER://host:port`.
 */
export function raftHandlers(node: RaftNode, options: { controllerListenerName?: string } = {}): AnyControllerHandler[] {
  const listenerName = options.controllerListenerName ?? 'CONTROLLER';
  const clusterId = node.clusterId;
  return [
    defineControllerHandler(Vote, {
      minVersion: 0,
      maxVersion: 2,
      async handle(_ctx, request) {
        const r = wire.voteRequestFromWire(request);
        return wire.voteResponseToWire(r.ok ? await node.handleVote(r.request) : r.response);
      },
    }),
    defineControllerHandler(BeginQuorumEpoch, {
      minVersion: 0,
      maxVersion: 1,
      async handle(_ctx, request) {
        const r = wire.beginQuorumEpochRequestFromWire(request);
        return wire.beginQuorumEpochResponseToWire(r.ok ? await node.handleBeginQuorumEpoch(r.request) : r.response);
      },
    }),
    defineControllerHandler(EndQuorumEpoch, {
      minVersion: 0,
      maxVersion: 1,
      async handle(ctx, request) {
        const r = wire.endQuorumEpochRequestFromWire(request, ctx.apiVersion);
        return wire.endQuorumEpochResponseToWire(r.ok ? await node.handleEndQuorumEpoch(r.request) : r.response);
      },
    }),
    defineControllerHandler(Fetch, {
      // KIP-595 fetches need LastFetchedEpoch and the tagged DivergingEpoch: v12+.
      minVersion: wire.MIN_RAFT_FETCH_VERSION,
      maxVersion: 17,
      async handle(ctx, request) {
        const r = wire.fetchRequestFromWire(request, ctx.apiVersion);
        if (!r.ok) return wire.fetchResponseToWire(r.response, 0, 0, ctx.apiVersion);
        const response = await node.handleFetch(r.request);
        // The leader's endpoint goes with its id, so an observer that asked a bootstrap server can fetch from it (KIP-853).
        return wire.fetchResponseToWire(response, r.request.fetchOffset, 0, ctx.apiVersion, node.endpointOf(response.currentLeader.leaderId));
      },
    }),
    defineControllerHandler(FetchSnapshot, {
      // KIP-630: a follower behind the leader's log start copies its snapshot in chunks.
      minVersion: 0,
      maxVersion: 1,
      async handle(ctx, request) {
        const r = wire.fetchSnapshotRequestFromWire(request);
        const response = r.ok ? ((await node.handle(r.request)) as FetchSnapshotResponse) : r.response;
        return wire.fetchSnapshotResponseToWire(response, ctx.apiVersion, node.endpointOf(response.currentLeader.leaderId));
      },
    }),
    defineControllerHandler(DescribeQuorum, {
      minVersion: 0,
      maxVersion: 2,
      async handle(ctx, request) {
        return describeQuorumResponse(node, request, listenerName, ctx.apiVersion);
      },
    }),
    defineControllerHandler(DescribeCluster, {
      minVersion: 0,
      maxVersion: 1,
      async handle(ctx, request) {
        return describeClusterResponse(node, ctx.apiVersion, request, clusterId);
      },
    }),
  ];
}

const ENDPOINT_TYPE_NAMES: Record<number, string> = { 1: 'BROKER', 2: 'CONTROLLER' };
const ENDPOINT_TYPE_CONTROLLER = 2;

/**
 * DescribeCluster on the CONTROLLER listener (KIP-919, Kafka's ControllerApis via
 * AuthHelper.computeDescribeClusterResponse): what `--bootstrap-controller` admin clients
 * (kafka-metadata-quorum, kafka-features) ask first. The nodes are the voters at their controller.quorum.voters
 * addresses; the controller id is the Raft leader (-1 while none is known). A request for the brokers
 * (endpointType 1, and every v0 request) is MISMATCHED_ENDPOINT_TYPE (INVALID_REQUEST at v0), an unknown type
 * UNSUPPORTED_ENDPOINT_TYPE, with Kafka's messages.
 */
function describeClusterResponse(node: RaftNode, version: number, request: MessageValue<(typeof DescribeCluster)['request']['decl']>, clusterId: string): MessageInput<(typeof DescribeCluster)['response']['decl']> {
  const requested = version >= 1 ? request.endpointType : 1;
  const error = (errorCode: number, errorMessage: string) => ({
    throttleTimeMs: 0, errorCode, errorMessage, endpointType: 1, clusterId: '', controllerId: -1, brokers: [], clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  });
  if (ENDPOINT_TYPE_NAMES[requested] === undefined) return error(version === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, `Unsupported endpoint type ${requested}`);
  if (requested !== ENDPOINT_TYPE_CONTROLLER) {
    return error(version === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.MISMATCHED_ENDPOINT_TYPE, `The request was sent to an endpoint of type CONTROLLER, but we wanted an endpoint of type ${ENDPOINT_TYPE_NAMES[requested]}`);
  }
  const brokers = [...node.voterAddresses].sort((a, b) => a.id - b.id).map((v) => ({ brokerId: v.id, host: v.host, port: v.port, rack: null }));
  const leaderId = node.leader.leaderId;
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    endpointType: ENDPOINT_TYPE_CONTROLLER,
    clusterId,
    controllerId: brokers.some((b) => b.brokerId === leaderId) ? leaderId : -1,
    brokers,
    clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED,
  };
}

type DescribeQuorumReq = MessageValue<(typeof DescribeQuorum)['request']['decl']>;
type DescribeQuorumRes = MessageInput<(typeof DescribeQuorum)['response']['decl']>;

/** KafkaRaftClient.handleDescribeQuorumRequest: the leader's view, else NOT_LEADER_OR_FOLLOWER for the partition. */
function describeQuorumResponse(node: RaftNode, request: DescribeQuorumReq, listenerName: string, version: number): DescribeQuorumRes {
  const t = request.topics;
  if (t.length !== 1 || t[0]!.topicName !== wire.METADATA_TOPIC_NAME || t[0]!.partitions.length !== 1 || t[0]!.partitions[0]!.partitionIndex !== wire.METADATA_PARTITION) {
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `DescribeQuorum is only served for ${wire.METADATA_TOPIC_NAME}-${wire.METADATA_PARTITION}`, topics: [], nodes: [] };
  }
  const q = node.describeQuorum();
  const partition =
    q === null
      ? {
          partitionIndex: wire.METADATA_PARTITION,
          errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
          errorMessage: null,
          leaderId: node.leader.leaderId,
          leaderEpoch: node.leader.epoch,
          highWatermark: -1n,
          currentVoters: [],
          observers: [],
        }
      : {
          partitionIndex: wire.METADATA_PARTITION,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          leaderId: q.leaderId,
          leaderEpoch: q.leaderEpoch,
          highWatermark: BigInt(q.highWatermark),
          currentVoters: q.currentVoters.map(replica),
          observers: q.observers.map(replica),
        };
  // v2 Nodes: the voters' endpoints (KIP-853); for a static quorum, each voter's controller.quorum.voters address.
  // Not ignorable, so absent below v2 (RaftUtil sets them from v2 only; v0/v1 clients would get a closed connection).
  const nodes = q === null || version < 2 ? [] : [...node.voterAddresses].sort((a, b) => a.id - b.id).map((v) => ({ nodeId: v.id, listeners: [{ name: listenerName, host: v.host, port: v.port }] }));
  return { errorCode: ErrorCode.NONE, errorMessage: null, topics: [{ topicName: wire.METADATA_TOPIC_NAME, partitions: [partition] }], nodes };
}

function replica(r: { replicaId: number; logEndOffset: number; lastFetchTimestamp: number; lastCaughtUpTimestamp: number }) {
  return {
    replicaId: r.replicaId,
    replicaDirectoryId: '00000000-0000-0000-0000-000000000000',
    logEndOffset: BigInt(r.logEndOffset),
    lastFetchTimestamp: BigInt(r.lastFetchTimestamp),
    lastCaughtUpTimestamp: BigInt(r.lastCaughtUpTimestamp),
  };
}

/**
 * A FrameHandler for a listener that serves controller handlers only: the same rules as the broker's
 * Dispatcher (unknown api key or unsupported version: the connection closes with a logged reason;
 * ApiVersions at an unknown version: the v0 answer with UNSUPPORTED_VERSION, KIP-511; malformed bytes close
 * the connection).
 */
export class ControllerDispatcher implements FrameHandler {
  private readonly byKey = new Map<number, AnyControllerHandler>();

  constructor(
    handlers: readonly AnyControllerHandler[],
    private readonly logger: Logger,
    /** samsa.protocol.trace: log every request and response of this listener decoded, as the broker's Dispatcher does. */
    private readonly trace = false,
  ) {
    for (const h of handlers) this.byKey.set(h.api.apiKey, h);
    const apiKeys = (): { apiKey: number; minVersion: number; maxVersion: number }[] => this.apiVersionsList();
    this.byKey.set(
      ApiVersions.apiKey,
      defineControllerHandler(ApiVersions, {
        minVersion: 0,
        maxVersion: 4,
        async handle() {
          return { errorCode: ErrorCode.NONE, apiKeys: apiKeys(), throttleTimeMs: 0 };
        },
      }),
    );
  }

  /** Every API served here with its version range (ApiVersions' answer). */
  apiVersionsList(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.byKey.values()].sort((a, b) => a.api.apiKey - b.api.apiKey).map((h) => ({ apiKey: h.api.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }));
  }

  async handle(frame: Buffer, conn: Connection): Promise<Buffer[] | null> {
    const peek = peekRequestHeader(frame);
    const handler = this.byKey.get(peek.apiKey);
    if (!handler) {
      conn.close(`unknown or unsupported api key ${peek.apiKey} on the controller listener (version ${peek.apiVersion}, correlation id ${peek.correlationId})`);
      return null;
    }
    if (peek.apiVersion < handler.minVersion || peek.apiVersion > handler.maxVersion) {
      if (peek.apiKey === ApiVersions.apiKey) {
        const w = new Writer(256);
        writeResponseHeader(w, peek.correlationId, 0);
        ApiVersions.response.encode(w, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: this.apiVersionsList() }, 0);
        return w.toChunks();
      }
      conn.close(`${handler.api.name} version ${peek.apiVersion} is not supported (supported ${handler.minVersion}-${handler.maxVersion})`);
      return null;
    }
    const codec = handler.api.request;
    try {
      const r = new Reader(frame);
      const header = readRequestHeader(r, (_k, v) => codec.isFlexible(v));
      const request = codec.decode(r, header.apiVersion);
      if (this.trace) {
        this.logger.info({ listener: 'CONTROLLER', conn: conn.id, api: handler.api.name, version: header.apiVersion, correlationId: header.correlationId, clientId: header.clientId, request: traceValue(request) }, 'request');
      }
      const response = await handler.handle({ header, apiVersion: header.apiVersion, connectionId: conn.id, logger: this.logger, closeConnection: (reason: string) => conn.close(reason) }, request);
      if (response === null) return null;
      if (this.trace) {
        this.logger.info({ listener: 'CONTROLLER', conn: conn.id, api: handler.api.name, version: header.apiVersion, correlationId: header.correlationId, response: traceValue(response) }, 'response');
      }
      const w = new Writer(256);
      writeResponseHeader(w, header.correlationId, responseHeaderVersion(peek.apiKey, handler.api.response.isFlexible(header.apiVersion)));
      handler.api.response.encode(w, response as never, header.apiVersion);
      return w.toChunks();
    } catch (err) {
      if (err instanceof ProtocolError) {
        conn.close(`malformed ${handler.api.name} v${peek.apiVersion} request: ${err.message}`);
        return null;
      }
      this.logger.warn({ conn: conn.id, api: handler.api.name, err }, 'controller request failed');
      conn.close(`could not handle ${handler.api.name}: ${(err as Error).message}`, 'debug');
      return null;
    }
  }
}
