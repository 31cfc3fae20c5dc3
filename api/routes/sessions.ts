import { Router } from 'express';
import { z } from 'zod';
import { DEFAULT_EVICTION_REASON } from '../../domain/sessions';
import { actorOf } from '../../services/auth/principal';
import type { ServiceDeps } from '../../services/deps';
import { closeSession } from '../../services/sessions/close-session';
import { evictSession } from '../../services/sessions/evict-session';
import { heartbeatSession } from '../../services/sessions/heartbeat-session';
import { JOURNAL_PAGE_MAX, listSessionJournal } from '../../services/sessions/list-session-journal';
import { listSessions } from '../../services/sessions/list-sessions';
import { openSession } from '../../services/sessions/open-session';
import { sessionSettingsOf } from '../../services/sessions/settings';
import type { RouteKit } from '../route-kit';
import { baseId } from '../schemas';

const text = (max: number) => z.string().trim().min(1).max(max);
const sessionId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const baseParams = z.object({ baseId });
const sessionParams = z.object({ sessionId });
const reason = text(500).openapi({ example: DEFAULT_EVICTION_REASON });

const openBody = z.object({
  userCode: text(50).openapi({ example: 'BB' }),
  userName: text(200).openapi({ example: 'BB BB' }),
  ip: z
    .union([z.ipv4().openapi({ format: 'ipv4' }), z.ipv6().openapi({ format: 'ipv6' })])
    .openapi({ example: '192.168.1.148' }),
  computerName: text(100).openapi({ example: 'ICS01-PC' }),
  evict: z
    .object({ sessionId, reason: reason.default(DEFAULT_EVICTION_REASON) })
    .optional()
    .openapi({
      description:
        'evict-and-take-over: disconnect this session and open mine in its place, atomically (of two users taking over the same session, one wins)',
    }),
});

const sessionSchema = z.object({
  sessionId: z.number(),
  userCode: z.string(),
  userName: z.string(),
  ip: z.string(),
  computerName: z.string(),
  openedAt: z.string(),
  durationSeconds: z.number(),
  lastHeartbeatAt: z.string(),
});

const ended = z.object({ sessionId: z.number(), status: z.string(), endedAt: z.string().nullable() });

export function sessionRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'post',
      path: '/bases/:baseId/sessions',
      summary:
        'Open a session (every ERP login): 201 while the base has fewer sessions than connections, else 409 SEAT_LIMIT_REACHED with its sessions and the choices',
      tag: 'sessions',
      auth: 'any',
      authCache: true,
      params: baseParams,
      baseParam: 'baseId',
      body: openBody,
      responses: {
        201: {
          description: 'the session is open; send heartbeats more often than heartbeatTimeoutSeconds',
          schema: z.object({
            sessionId: z.number(),
            baseId: z.string(),
            openedAt: z.string(),
            maxConnections: z.number(),
            heartbeatTimeoutSeconds: z.number(),
            evictedSessionId: z.number().nullable(),
          }),
        },
      },
      errors: ['SEAT_LIMIT_REACHED', 'LICENCE_SUSPENDED', 'BASE_NOT_FOUND'],
    },
    async ({ params, body, principal }) => ({
      status: 201,
      body: await openSession(deps, { actor: actorOf(principal), baseId: params.baseId, request: body }),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/bases/:baseId/sessions',
      summary: 'Sessions of the base that count (oldest first) and how many it may have',
      tag: 'sessions',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      responses: {
        200: {
          description: 'the sessions screen',
          schema: z.object({
            baseId: z.string(),
            maxConnections: z.number(),
            source: z.enum(['LICENCE', 'FREE_EDITION', 'SUSPENDED']),
            activeSessions: z.number(),
            heartbeatTimeoutSeconds: z.number(),
            sessions: z.array(sessionSchema),
          }),
        },
      },
    },
    async ({ params }) => ({
      status: 200,
      body: await listSessions(deps.prisma, sessionSettingsOf(deps), params.baseId),
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/bases/:baseId/session-journal',
      summary: 'Session journal, newest first: opened, closed, evicted (by whom, why), expired, trimmed',
      tag: 'sessions',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      query: z.object({
        cursor: sessionId.optional().openapi({ description: '`nextCursor` of the previous page' }),
        limit: z.coerce.number().int().min(1).max(JOURNAL_PAGE_MAX).default(50),
      }),
      responses: {
        200: {
          description: 'one page of the journal',
          schema: z.object({
            baseId: z.string(),
            items: z.array(
              z.object({
                entryId: z.number(),
                at: z.string(),
                event: z.enum(['OPENED', 'CLOSED', 'EVICTED', 'EXPIRED', 'TRIMMED']),
                sessionId: z.number(),
                userCode: z.string(),
                userName: z.string(),
                ip: z.string(),
                computerName: z.string(),
                by: z.object({
                  actorType: z.string(),
                  actorId: z.string(),
                  userCode: z.string().nullable(),
                  userName: z.string().nullable(),
                }),
                reason: z.string().nullable(),
              }),
            ),
            nextCursor: z.number().nullable(),
          }),
        },
      },
    },
    async ({ params, query }) => ({
      status: 200,
      body: await listSessionJournal(deps.prisma, params.baseId, query),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/sessions/:sessionId/heartbeat',
      summary: 'The session is alive (a session silent longer than the timeout is expired)',
      tag: 'sessions',
      auth: 'any',
      authCache: true,
      params: sessionParams,
      responses: {
        200: {
          description: 'still open',
          schema: z.object({
            sessionId: z.number(),
            status: z.literal('ACTIVE'),
            lastHeartbeatAt: z.string(),
            heartbeatTimeoutSeconds: z.number(),
          }),
        },
      },
      errors: ['SESSION_NOT_FOUND', 'SESSION_ENDED'],
    },
    async ({ params, principal }) => ({
      status: 200,
      body: await heartbeatSession(deps, principal, params.sessionId),
    }),
  );

  kit.route(
    router,
    {
      method: 'delete',
      path: '/sessions/:sessionId',
      summary: 'Close a session normally (the user quits); closing an ended session changes nothing',
      tag: 'sessions',
      auth: 'any',
      authCache: true,
      params: sessionParams,
      responses: { 200: { description: 'how the session ended', schema: ended } },
      errors: ['SESSION_NOT_FOUND'],
    },
    async ({ params, principal }) => ({
      status: 200,
      body: await closeSession(deps, principal, params.sessionId),
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/sessions/:sessionId/evict',
      summary: `Disconnect a session, with a reason (default "${DEFAULT_EVICTION_REASON}") written to the journal with who did it`,
      tag: 'sessions',
      auth: 'any',
      params: sessionParams,
      body: z.object({
        reason: reason.default(DEFAULT_EVICTION_REASON),
        byUserCode: text(50).optional().openapi({ description: 'the ERP user who disconnects it' }),
        byUserName: text(200).optional(),
      }),
      responses: {
        200: { description: 'evicted', schema: ended.extend({ reason: z.string() }) },
      },
      errors: ['SESSION_NOT_FOUND', 'SESSION_ENDED'],
    },
    async ({ params, body, principal }) => ({
      status: 200,
      body: await evictSession(deps, principal, params.sessionId, body),
    }),
  );

  return router;
}
