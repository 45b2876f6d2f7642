import type { Logger } from 'pino';
import type { RequestHeader } from '../../protocol/headers.js';
import type { ApiMessages, MessageDecl, MessageInput, MessageValue } from '../../protocol/schema.js';
import type { Broker } from '../broker/broker.js';

export interface RequestContext {
  readonly broker: Broker;
  readonly header: RequestHeader;
  readonly apiVersion: number;
  readonly connectionId: number;
  /** The client's IP address (group members' clientHost), when known. */
  readonly clientAddress?: string;
  readonly logger: Logger;
  /** Ends the connection with a logged reason (acks=0 produce errors: the client has no other signal). */
  closeConnection(reason: string): void;
  /**
   * Runs `fn` once every byte of this request's response has been handed to the socket (its write
   * callbacks fired without error). Not run when there is no response, the connection closes first or a
   * write fails: a hook that releases buffers must treat "never called" as "leave them to the GC".
   */
  afterResponseSent?(fn: () => void): void;
}

/**
 * A handler for one API: the version range this broker advertises in ApiVersions, and the function that
 * turns a decoded request into a response value (null: send no response, as for acks=0 Produce).
 */
export interface Handler<Req extends MessageDecl = MessageDecl, Res extends MessageDecl = MessageDecl> {
  readonly api: ApiMessages<Req, Res>;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(ctx: RequestContext, request: MessageValue<Req>): Promise<MessageInput<Res> | null>;
}

export function defineHandler<Req extends MessageDecl, Res extends MessageDecl>(
  api: ApiMessages<Req, Res>,
  spec: {
    minVersion: number;
    maxVersion: number;
    handle(ctx: RequestContext, request: MessageValue<Req>): Promise<MessageInput<Res> | null>;
  },
): Handler<Req, Res> {
  return { api, ...spec };
}

/** The type-erased form the dispatcher works with. */
export interface AnyHandler {
  readonly api: ApiMessages;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(ctx: RequestContext, request: unknown): Promise<unknown>;
}
