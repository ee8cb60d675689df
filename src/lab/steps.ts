// The steps a lab driver (driver.ts) runs and the results it reports, shared
// by the host side (nvmebench compat, the lab tests) and the driver itself.
// Kept apart from driver.ts: that module runs its steps when it is the main
// module, and a step imports the CLI, which must not import it back.

export interface Step {
  name: string;
  /** nvmebench arguments. */
  args?: string[];
  /** A shell command instead (setup such as chmod). */
  sh?: string;
  /** Before this step, become uid/gid 65534 (nobody) with no supplementary groups, for good. */
  dropRoot?: boolean;
}

export interface StepResult {
  name: string;
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export const RESULT_MARK = '@@RESULT ';

export function encodeSteps(steps: Step[]): string {
  return Buffer.from(JSON.stringify(steps)).toString('base64');
}

/** The results a lab run printed, by step name. */
export function parseResults(stdout: string): Map<string, StepResult> {
  const results = new Map<string, StepResult>();
  for (const line of stdout.split('\n')) {
    if (line.startsWith(RESULT_MARK)) {
      const r = JSON.parse(line.slice(RESULT_MARK.length)) as StepResult;
      results.set(r.name, r);
    }
  }
  return results;
}
