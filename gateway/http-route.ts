// The per-request decision shared by the HTTP/1 and HTTP/2 sessions: loop check, name
// resolution, authorization, endpoint pick. Every refusal is a GatewayError from errors.ts.
import type { Pick } from './balancer.ts';
import type { ConnectionContext } from './context.ts';
import { NoEndpointsError, UnauthorizedClientError } from './errors.ts';
import { appendForwarded, checkLoop, type GatewayHop } from './forwarded.ts';
import { isAllowed } from './policy.ts';

export interface Route {
  pick: Pick;
  /** The Forwarded value to send upstream. */
  forwarded: string;
}

/** Decides where a request goes, or throws the GatewayError it must be answered with. */
export function routeRequest(ctx: ConnectionContext, forwarded: readonly string[]): Route {
  const s = ctx.services;
  const hop: GatewayHop = { gatewayId: s.gatewayId(), clientId: ctx.clientId, target: ctx.authority };
  checkLoop(hop, forwarded);
  const target = s.resolver.resolve(ctx.targetName, ctx.targetPort);
  if (!isAllowed(s.policy, { clientId: ctx.clientId, service: target.service, annotation: target.allowedClients })) {
    s.metrics.authzDeny.inc({ client_id: ctx.clientId, target_service: `${target.service.name}.${target.service.namespace}` });
    throw new UnauthorizedClientError();
  }
  const pick = target.balancer.pick();
  if (pick === undefined) throw new NoEndpointsError();
  return { pick, forwarded: appendForwarded(forwarded, hop) };
}
