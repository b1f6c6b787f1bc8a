import type { TollgateConfig } from './tollgate-config.js';

/**
 * The settings a reload cannot change, because they belong to listeners
 * that are already bound (the gRPC and admin addresses, the message size,
 * the gRPC port's TLS files) or to the budget store opened at start. Returns
 * the YAML paths of those that differ between the running config and a new
 * one, so the reload can say that a restart is needed.
 */
export function restartOnlyChanges(running: TollgateConfig, next: TollgateConfig): string[] {
  const changed: string[] = [];
  const [a, b] = [running.server, next.server];

  if (a.grpcAddress !== b.grpcAddress) changed.push('server.grpc_address');
  if (a.adminAddress !== b.adminAddress) changed.push('server.admin_address');
  if (a.maxMessageBytes !== b.maxMessageBytes) changed.push('server.max_message_bytes');
  if (!sameJson(a.tls, b.tls)) changed.push('server.tls');
  if (running.budgets.enabled !== next.budgets.enabled) changed.push('budgets.enabled');
  if (!sameJson(running.budgets.store, next.budgets.store)) changed.push('budgets.store');
  return changed;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
