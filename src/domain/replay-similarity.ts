/**
 * Answer agreement for replays (README "Replay"): how close a candidate's answer is to the one served,
 * from 0 (nothing alike) to 1 (the same). Pluggable: a replay names one of these in its request
 * (`similarity`), and a new measure is one more entry here.
 */

/** A measure of agreement between two answers, in [0, 1]. */
export interface AnswerSimilarity {
  readonly name: string;
  /** One line for the API's error messages and the README. */
  readonly description: string;
  score(served: string, candidate: string): number;
}

/** Lower case, punctuation as space, runs of whitespace as one: so formatting noise does not count as disagreement. */
export function normalizeAnswer(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}\s]+/gu, ' ').replace(/\s+/g, ' ').trim();
}

const exact: AnswerSimilarity = {
  name: 'exact', description: '1 when the answers are identical, else 0',
  score: (served, candidate) => (served === candidate ? 1 : 0),
};

/** F1 of the two answers' normalized token multisets: word choice and order-free overlap. */
const tokenOverlap: AnswerSimilarity = {
  name: 'token_overlap', description: 'F1 of the normalized word multisets (order-free)',
  score(served, candidate) {
    const left = normalizeAnswer(served).split(' ').filter(Boolean);
    const right = normalizeAnswer(candidate).split(' ').filter(Boolean);
    if (left.length === 0 && right.length === 0) return 1;
    if (left.length === 0 || right.length === 0) return 0;
    const counts = new Map<string, number>();
    for (const token of left) counts.set(token, (counts.get(token) ?? 0) + 1);
    let common = 0;
    for (const token of right) {
      const left = counts.get(token) ?? 0;
      if (left > 0) {
        common += 1;
        counts.set(token, left - 1);
      }
    }
    if (common === 0) return 0;
    const precision = common / right.length;
    const recall = common / left.length;
    return (2 * precision * recall) / (precision + recall);
  },
};

/** Characters compared by the edit distance at most (a quadratic algorithm: long answers are compared by their start). */
const EDIT_DISTANCE_MAX_CHARS = 4_000;

/** 1 − Levenshtein distance / longer length, on normalized text. */
const editDistance: AnswerSimilarity = {
  name: 'edit_distance', description: `1 - Levenshtein distance / longer length, on normalized text (first ${EDIT_DISTANCE_MAX_CHARS} characters)`,
  score(served, candidate) {
    const a = normalizeAnswer(served).slice(0, EDIT_DISTANCE_MAX_CHARS);
    const b = normalizeAnswer(candidate).slice(0, EDIT_DISTANCE_MAX_CHARS);
    const longer = Math.max(a.length, b.length);
    if (longer === 0) return 1;
    let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
    for (let i = 1; i <= a.length; i += 1) {
      const current = [i];
      for (let j = 1; j <= b.length; j += 1) {
        current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
      previous = current;
    }
    return 1 - previous[b.length]! / longer;
  },
};

export const ANSWER_SIMILARITIES: Readonly<Record<string, AnswerSimilarity>> = {
  [exact.name]: exact, [tokenOverlap.name]: tokenOverlap, [editDistance.name]: editDistance,
};

export const SIMILARITY_NAMES = Object.keys(ANSWER_SIMILARITIES) as [string, ...string[]];
export const DEFAULT_SIMILARITY = 'token_overlap';

/** The measure by name; throws for an unknown one (the route validates the name first). */
export function similarityByName(name: string): AnswerSimilarity {
  const similarity = Object.hasOwn(ANSWER_SIMILARITIES, name) ? ANSWER_SIMILARITIES[name] : undefined;
  if (!similarity) throw new Error(`unknown similarity '${name}'`);
  return similarity;
}
