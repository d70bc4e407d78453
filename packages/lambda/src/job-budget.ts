import { PresignPipelineError } from '@presign-pipeline/core';
import type { Context } from 'aws-lambda';

/** The time an invocation has: when it was measured and how much was left then. @internal */
export interface InvocationBudget {
  /** Epoch milliseconds of the measurement. */
  readonly startedAt: number;
  /** `context.getRemainingTimeInMillis()` at that moment. */
  readonly remainingMs: number;
}

/** What the context says is left of the invocation, or undefined without a usable context (plain calls, tests). @internal */
export function invocationBudget(context: Context | undefined, now: number = Date.now()): InvocationBudget | undefined {
  const remaining =
    typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return undefined;
  return { startedAt: now, remainingMs: Math.max(0, remaining) };
}

/**
 * When listing must stop: the budget's end minus the margin. The margin never takes more than half of the budget,
 * so a function whose timeout is shorter than twice the margin still makes progress on every invocation. @internal
 */
export function deadlineOf(budget: InvocationBudget, marginMs: number): number {
  return budget.startedAt + budget.remainingMs - Math.min(marginMs, budget.remainingMs / 2);
}

/** Thrown when a job of a batch would start after the batch's deadline (an SQS batch that ran out of time). */
function deadlineReached(deadline: number): PresignPipelineError {
  return new PresignPipelineError(
    'DEADLINE_REACHED',
    `The invocation's deadline (${new Date(deadline).toISOString()}, DEADLINE_MARGIN_MS before its timeout) passed before the job started; nothing was listed`,
  );
}

/**
 * The job's deadline, or undefined without a budget. Jobs sharing one invocation's budget (an SQS batch) throw
 * a `PresignPipelineError` with code `DEADLINE_REACHED` when it has passed: the ones left without time are skipped. A job alone always runs, and at worst
 * lists nothing and answers where to resume. @internal
 */
export function jobDeadline(
  budget: InvocationBudget | undefined,
  shared: boolean,
  marginMs: number,
  now: () => number = Date.now,
): number | undefined {
  const deadline = budget === undefined ? undefined : deadlineOf(budget, marginMs);
  if (shared && deadline !== undefined && now() >= deadline) throw deadlineReached(deadline);
  return deadline;
}

/**
 * Milliseconds kept free after the hard stop ({@link hardStopOf}): {@link STOP_CLEANUP_MS} to remove the stopped
 * upload, then room to log the error, publish the EMF document and answer before the invocation ends. @internal
 */
export const HARD_STOP_RESERVE_MS = 500;

/** How long removing a stopped manifest upload may take (ListMultipartUploads, AbortMultipartUpload, DeleteObject). @internal */
export const STOP_CLEANUP_MS = 300;

/**
 * When writing must stop whatever it is waiting for: the budget's end minus {@link HARD_STOP_RESERVE_MS}, never
 * more than a quarter of the budget (so it stays after the listing deadline, which takes at most half). @internal
 */
export function hardStopOf(budget: InvocationBudget): number {
  return budget.startedAt + budget.remainingMs - Math.min(HARD_STOP_RESERVE_MS, budget.remainingMs / 4);
}

/** A signal that aborts at the hard stop, and how to let its timer go. @internal */
export interface HardStop {
  /** Aborts at the hard stop with a `PresignPipelineError` of code `DEADLINE_REACHED`; undefined without a budget. */
  readonly signal: AbortSignal | undefined;
  /** Clears the timer (the invocation is over). */
  dispose(): void;
}

/**
 * Arms the hard stop of an invocation whose budget is known. None without a budget, nor with nothing left at all:
 * such an invocation is already over in Lambda, and a caller outside it still gets the answer a job alone always
 * gets (where to resume). @internal
 */
export function armHardStop(budget: InvocationBudget | undefined): HardStop {
  if (budget === undefined || budget.remainingMs <= 0) return { signal: undefined, dispose: () => undefined };
  const at = hardStopOf(budget);
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new PresignPipelineError(
          'DEADLINE_REACHED',
          `The invocation ends ${String(Math.round(budget.startedAt + budget.remainingMs - at))} ms from now; the S3 write in flight was stopped`,
        ),
      ),
    Math.max(0, at - Date.now()),
  );
  return { signal: controller.signal, dispose: () => clearTimeout(timer) };
}
