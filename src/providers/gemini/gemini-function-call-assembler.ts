/**
 * Assembles streamed Gemini function calls into whole calls, so each call is emitted once with its
 * id, name and complete JSON arguments. The Gemini Developer API sends a whole call per part; Vertex
 * with `streamFunctionCallArguments` (fixture google-stream-tool-call-arguments) sends a named part
 * with `willContinue: true`, then `partialArgs` pieces addressed by JSON path (strings may continue
 * across pieces), then a part without `willContinue` that closes the call.
 */
import { geminiToolCallId } from './convert-gemini-response';
import type { GeminiPartialArg, GeminiResponseFunctionCall } from './gemini-response-schema';

export interface AssembledFunctionCall {
  toolCallIndex: number;
  id: string;
  name: string;
  arguments: string;
}

interface PendingCall {
  id?: string;
  name: string;
  args: Record<string, unknown>;
  openStrings: Set<string>;
}

/** One assembler per streamed answer; choices (candidates) are tracked separately. */
export class GeminiFunctionCallAssembler {
  private readonly pending = new Map<number, PendingCall>();
  private readonly counts = new Map<number, number>();

  /** Feed one `functionCall` part; returns the calls it completed (zero, one, or two when it closes one and opens a whole one). */
  accept(choiceIndex: number, call: GeminiResponseFunctionCall, responseId: string | undefined): AssembledFunctionCall[] {
    const completed: AssembledFunctionCall[] = [];
    let pending = this.pending.get(choiceIndex);
    if (call.name && pending) {
      completed.push(...this.flush(choiceIndex, responseId));
      pending = undefined;
    }
    if (!pending) {
      if (!call.name) return completed; // a stray continuation with nothing open
      pending = { id: call.id, name: call.name, args: { ...(call.args ?? {}) }, openStrings: new Set() };
      this.pending.set(choiceIndex, pending);
    }
    for (const partial of call.partialArgs ?? []) applyPartialArg(pending, partial);
    if (call.willContinue !== true) completed.push(...this.flush(choiceIndex, responseId));
    return completed;
  }

  /** Close the call still open for a choice (its candidate finished). */
  flush(choiceIndex: number, responseId: string | undefined): AssembledFunctionCall[] {
    const pending = this.pending.get(choiceIndex);
    if (!pending) return [];
    this.pending.delete(choiceIndex);
    const toolCallIndex = this.count(choiceIndex);
    this.counts.set(choiceIndex, toolCallIndex + 1);
    return [{
      toolCallIndex,
      id: pending.id ?? geminiToolCallId(responseId, choiceIndex, toolCallIndex),
      name: pending.name,
      arguments: JSON.stringify(pending.args),
    }];
  }

  /** How many calls this choice has completed so far. */
  count(choiceIndex: number): number {
    return this.counts.get(choiceIndex) ?? 0;
  }
}

function applyPartialArg(pending: PendingCall, partial: GeminiPartialArg): void {
  const path = partial.jsonPath ?? '$';
  const keys = parseJsonPath(path);
  if (keys.length === 0 || keys.some((key) => key === '__proto__' || key === 'constructor' || key === 'prototype')) return;
  if (partial.stringValue !== undefined) {
    const previous = pending.openStrings.has(path) ? getPath(pending.args, keys) : undefined;
    setPath(pending.args, keys, typeof previous === 'string' ? previous + partial.stringValue : partial.stringValue);
    if (partial.willContinue) pending.openStrings.add(path);
    else pending.openStrings.delete(path);
  } else if (partial.numberValue !== undefined) setPath(pending.args, keys, partial.numberValue);
  else if (partial.boolValue !== undefined) setPath(pending.args, keys, partial.boolValue);
  else if ('nullValue' in partial) setPath(pending.args, keys, null);
}

/** `$.a.b[0]['c d']` → ['a', 'b', 0, 'c d']. */
export function parseJsonPath(path: string): Array<string | number> {
  const keys: Array<string | number> = [];
  const pattern = /\.([^.[\]]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/g;
  for (const match of path.replace(/^\$/, '').matchAll(pattern)) {
    if (match[2] !== undefined) keys.push(Number(match[2]));
    else keys.push(match[1] ?? match[3] ?? match[4] ?? '');
  }
  return keys;
}

function getPath(root: Record<string, unknown>, keys: Array<string | number>): unknown {
  let node: unknown = root;
  for (const key of keys) node = node === null || typeof node !== 'object' ? undefined : (node as Record<string | number, unknown>)[key];
  return node;
}

function setPath(root: Record<string, unknown>, keys: Array<string | number>, value: unknown): void {
  let node: Record<string | number, unknown> = root;
  keys.forEach((key, position) => {
    if (position === keys.length - 1) { node[key] = value; return; }
    const nextIsIndex = typeof keys[position + 1] === 'number';
    if (node[key] === null || typeof node[key] !== 'object') node[key] = nextIsIndex ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  });
}
