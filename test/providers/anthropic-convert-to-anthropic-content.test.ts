import { callerCacheControl, convertContentParts, convertUrl } from '../../src/providers/anthropic/convert-to-anthropic-content';
import type { ProviderWarning } from '../../src/contract/chat';

describe('convertUrl', () => {
  it('turns a base64 data: URL into an inline image', () => {
    expect(convertUrl('data:image/jpeg;base64,/9j/4AAQ')).toEqual({ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } });
  });

  it('base64-encodes a data: URL that is not base64 already', () => {
    expect(convertUrl('data:image/svg+xml,%3Csvg%2F%3E')).toEqual({ type: 'image', source: { type: 'base64', media_type: 'image/svg+xml', data: Buffer.from('<svg/>').toString('base64') } });
  });

  it('turns a PDF data: URL into a document block', () => {
    expect(convertUrl('data:application/pdf;base64,JVBERi0=')).toEqual({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } });
  });

  it('lets Anthropic fetch http(s) URLs itself', () => {
    expect(convertUrl('https://example.com/a.png')).toEqual({ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } });
    expect(convertUrl('https://example.com/paper.pdf')).toEqual({ type: 'document', source: { type: 'url', url: 'https://example.com/paper.pdf' } });
  });

  it('refuses other schemes and media types', () => {
    expect(convertUrl('ftp://example.com/a.png')).toBeUndefined();
    expect(convertUrl('data:audio/wav;base64,AAAA')).toBeUndefined();
  });
});

describe('convertContentParts', () => {
  it('converts an OpenAI file part carrying PDF data into a titled document', () => {
    const warnings: ProviderWarning[] = [];
    const blocks = convertContentParts([{ type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'report.pdf' } }], 'user', true, warnings);
    expect(blocks).toEqual([{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' }, title: 'report.pdf' }]);
    expect(warnings).toEqual([]);
  });

  it('keeps only text in system content and warns about an image there', () => {
    const warnings: ProviderWarning[] = [];
    const blocks = convertContentParts([{ type: 'text', text: 'Rules' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }], 'system', false, warnings);
    expect(blocks).toEqual([{ type: 'text', text: 'Rules' }]);
    expect(warnings).toHaveLength(1);
  });
});

describe('callerCacheControl', () => {
  it('accepts only ephemeral markers and known TTLs', () => {
    expect(callerCacheControl({ cache_control: { type: 'ephemeral', ttl: '1h' } })).toEqual({ type: 'ephemeral', ttl: '1h' });
    expect(callerCacheControl({ cache_control: { type: 'ephemeral', ttl: '3d' } })).toEqual({ type: 'ephemeral' });
    expect(callerCacheControl({ cache_control: { type: 'persistent' } })).toBeUndefined();
    expect(callerCacheControl({ prompt_cache_breakpoint: { mode: 'explicit' } })).toEqual({ type: 'ephemeral' });
    expect(callerCacheControl({ text: 'plain' })).toBeUndefined();
  });
});
