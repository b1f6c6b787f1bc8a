import type { ClusterEvaluation } from '../../health/cluster-evaluation.js';
import { EventChannel, type Unsubscribe } from '../../health/event-channel.js';
import type { AssignmentCodec } from './assignment-codec.js';
import {
  assignmentVersion,
  clusterLoadAssignment,
  type ClusterLoadAssignment,
} from './cluster-load-assignment.js';
import type { EncodedAny } from './discovery-messages.js';

/** One cluster's current EDS resource. */
export interface AssignmentResource {
  readonly name: string;
  /** Content hash: equal assignments have equal versions. */
  readonly version: string;
  /** False for a name tollgate has no cluster for: the assignment is empty. */
  readonly known: boolean;
  readonly assignment: ClusterLoadAssignment;
  readonly any: EncodedAny;
}

/**
 * The current ClusterLoadAssignment of every configured cluster, encoded
 * once per version. {@link refresh} recomputes some names and tells the
 * streams which ones changed version; a recomputation that yields the same
 * content changes nothing, so an identical health result pushes nothing.
 *
 * Names tollgate does not know are answered with an empty assignment built
 * on demand and never stored, so clients asking for arbitrary names cannot
 * grow memory.
 */
export class AssignmentStore {
  private readonly current = new Map<string, AssignmentResource>();
  private readonly changes = new EventChannel<readonly string[]>();

  constructor(
    private readonly codec: AssignmentCodec,
    private readonly evaluation: (name: string) => ClusterEvaluation | undefined,
  ) {}

  /** The resource for `name`: the cluster's assignment, or an empty one. */
  resource(name: string): AssignmentResource {
    return this.current.get(name) ?? this.build(name, undefined);
  }

  /** Calls `listener` with the names whose version changed, after each refresh. */
  onChange(listener: (names: readonly string[]) => void): Unsubscribe {
    return this.changes.subscribe(listener);
  }

  /** Recomputes `names` from the health monitor; announces those whose version changed. */
  refresh(names: Iterable<string>): void {
    const changed: string[] = [];
    for (const name of new Set(names)) {
      const before = this.resource(name).version;
      const evaluation = this.evaluation(name);
      const next = this.build(name, evaluation);

      if (evaluation) this.current.set(name, next);
      else this.current.delete(name);
      if (next.version !== before) changed.push(name);
    }

    if (changed.length > 0) this.changes.emit(changed);
  }

  private build(name: string, evaluation: ClusterEvaluation | undefined): AssignmentResource {
    const assignment = clusterLoadAssignment(name, evaluation);
    const version = assignmentVersion(assignment);
    const existing = this.current.get(name);
    if (existing?.version === version) return existing;

    const any = this.codec.encode(assignment);
    return { name, version, known: evaluation !== undefined, assignment, any };
  }
}
