/**
 * Folds a stream's parts into the ChatResult a non-streamed call would have returned, so a streamed
 * answer is recorded (history, outcome, idempotent replays) exactly like a plain one.
 */
import type { ChatResult, ChatToolCall, FinishReason, ProviderWarning, StreamPart, ThinkingBlock } from '../contract/chat';

interface AssembledChoice {
  content: string; refusal: string; reasoning: string; toolCalls: ChatToolCall[]; finish?: FinishReason; raw?: string;
  /** Anthropic thinking blocks in order; the last one is open (more reasoning goes into it) until its signature came. */
  thinking: ThinkingBlock[]; thinkingOpen: boolean;
}

export class StreamResultAssembler {
  private readonly choices = new Map<number, AssembledChoice>();
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
      case 'reasoning-delta': {
        const choice = this.choice(part.choiceIndex);
        choice.reasoning += part.text;
        const last = choice.thinking.at(-1);
        if (choice.thinkingOpen && last?.type === 'thinking') last.thinking += part.text;
        else { choice.thinking.push({ type: 'thinking', thinking: part.text, signature: '' }); choice.thinkingOpen = true; }
        return;
      }
      case 'reasoning-signature': {
        const choice = this.choice(part.choiceIndex);
        const last = choice.thinking.at(-1);
        if (choice.thinkingOpen && last?.type === 'thinking') last.signature = part.signature;
        else choice.thinking.push({ type: 'thinking', thinking: '', signature: part.signature });
        choice.thinkingOpen = false;
        return;
      }
      case 'redacted-reasoning': {
        const choice = this.choice(part.choiceIndex);
        choice.thinking.push({ type: 'redacted_thinking', data: part.data });
        choice.thinkingOpen = false;
        return;
      }
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
        // Only Anthropic signs its thinking: without a signature or a redacted block there is nothing to give back.
        ...(choice.thinking.some((block) => block.type === 'redacted_thinking' || block.signature) ? { thinking_blocks: choice.thinking } : {}),
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
    if (!choice) this.choices.set(index, choice = { content: '', refusal: '', reasoning: '', toolCalls: [], thinking: [], thinkingOpen: false });
    return choice;
  }
}
