import { runStripeFaultsScenario, type StripeFaultsFigures } from './stripe-faults.js';
import { runTemporalOutageScenario, type TemporalOutageFigures } from './temporal-outage.js';
import { runWorkerKillScenario, type WorkerKillFigures } from './worker-kill.js';

export interface FaultFigures {
  temporalOutage: TemporalOutageFigures;
  workerKill: WorkerKillFigures;
  stripeFaults: StripeFaultsFigures;
}

/** The three fault scenarios one after another, with their default sizes (about 75 s on 2 cores). */
export async function runFaultScenarios(options: { log?: (line: string) => void } = {}): Promise<FaultFigures> {
  const temporalOutage = await runTemporalOutageScenario(options);
  const workerKill = await runWorkerKillScenario(options);
  const stripeFaults = await runStripeFaultsScenario(options);
  return { temporalOutage, workerKill, stripeFaults };
}
