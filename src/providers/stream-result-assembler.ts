/**
 * Folds a stream's parts into the ChatResult a non-streamed call would have returned, so a streamed
 * answer is recorded (history, outcome, idempotent replays) exactly like a plain one.
 */
import type { ChatResult, ChatToolCall, FinishReason, ProviderWarning, StreamPart } from '../contract/chat';

export class StreamResultAssembler {
  private readonly choices = new Map<number, { content: string; refusal: string; reasoning: string; toolCalls: ChatToolCall[]; finish?: FinishReason; raw?: string }>();
  private providerResponseId = '';
  private model: string;
  private usage: ChatResult['usage'] = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  private serviceTier?: string;
  private providerRequestId?: string;
  private warnings: ProviderWarning[] = [];

  constructor(model: string, private readonly created: number) {
    this.model = model;
  }

  add(part: StreamPart): void {
    switch (part.type) {
      case 'stream-start':
        this.providerResponseId = part.providerResponseId ?? this.providerResponseId;
        this.model = part.model ?? this.model;
        this.providerRequestId = part.providerRequestId;
        this.warnings = part.warnings;
        return;
      case 'text-delta': this.choice(part.choiceIndex).content += part.text; return;
      case 'refusal-delta': this.choice(part.choiceIndex).refusal += part.text; return;
      case 'reasoning-delta': this.choice(part.choiceIndex).reasoning += part.text; return;
      case 'tool-call-delta': {
        const calls = this.choice(part.choiceIndex).toolCalls;
        const call = calls[part.toolCallIndex] ??= { id: part.id ?? '', type: 'function', function: { name: part.name ?? '', arguments: '' } };
        if (part.id) call.id = part.id;
        if (part.name) call.function.name = part.name;
        call.function.arguments += part.argumentsDelta;
        return;
      }
      case 'finish': {
        const choice = this.choice(part.choiceIndex);
        choice.finish = part.finishReason;
        choice.raw = part.rawFinishReason;
        return;
      }
      case 'usage':
        this.usage = part.usage;
        this.serviceTier = part.serviceTier ?? this.serviceTier;
        this.model = part.model ?? this.model;
        return;
      case 'stream-end':
      case 'skipped-event':
        return;
    }
  }

  result(): ChatResult {
    const choices = [...this.choices.entries()].sort(([a], [b]) => a - b).map(([index, choice]) => ({
      index,
      message: {
        role: 'assistant' as const,
        content: choice.content.length > 0 || choice.toolCalls.length === 0 ? choice.content : null,
        ...(choice.refusal ? { refusal: choice.refusal } : {}),
        ...(choice.toolCalls.length > 0 ? { tool_calls: choice.toolCalls.filter(Boolean) } : {}),
        ...(choice.reasoning ? { reasoning_content: choice.reasoning } : {}),
      },
      finish_reason: choice.finish ?? 'stop',
      raw_finish_reason: choice.raw,
    }));
    return {
      providerResponseId: this.providerResponseId, model: this.model, created: this.created, choices, usage: this.usage,
      serviceTier: this.serviceTier, providerRequestId: this.providerRequestId, warnings: this.warnings,
    };
  }

  private choice(index: number) {
    let choice = this.choices.get(index);
    if (!choice) this.choices.set(index, choice = { content: '', refusal: '', reasoning: '', toolCalls: [] });
    return choice;
  }
}
