/** `/call/*` failures in the seed 002 envelope: `{"status":false,"error":"…"}` with `status`. */
import type { FastifyReply } from 'fastify';

export class CallApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export const fail = (reply: FastifyReply, status: number, error: string) => reply.status(status).send({ status: false, error });
