import { convertMediaPart, guessMimeType, parseDataUrl } from '../../src/providers/gemini/convert-to-gemini-media';

describe('convertMediaPart', () => {
  it('sends a data: image inline', () => {
    expect(convertMediaPart({ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }, 's')).toEqual({
      part: { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
    });
  });

  it('sends an http(s) image as fileData with the MIME type its extension implies', () => {
    expect(convertMediaPart({ type: 'image_url', image_url: { url: 'https://example.com/cat.JPG?size=2' } }, 's')).toEqual({
      part: { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.JPG?size=2' } },
    });
  });

  it('warns and drops an http URL whose type cannot be told', () => {
    const converted = convertMediaPart({ type: 'image_url', image_url: { url: 'https://example.com/image?id=3' } }, 'messages[0].content[1]');
    expect(converted).toEqual({ warning: expect.objectContaining({ type: 'unsupported-setting', setting: 'messages[0].content[1]' }) });
  });

  it('sends input_audio and inline files, and warns for OpenAI file ids', () => {
    expect(convertMediaPart({ type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }, 's')).toEqual({ part: { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } } });
    expect(convertMediaPart({ type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } }, 's')).toEqual({ part: { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } } });
    expect(convertMediaPart({ type: 'file', file: { file_id: 'file-abc' } }, 's')).toHaveProperty('warning');
  });
});

describe('parseDataUrl', () => {
  it('re-encodes percent-encoded payloads as base64', () => {
    expect(parseDataUrl('data:text/plain,hello%20world')).toEqual({ mimeType: 'text/plain', data: Buffer.from('hello world').toString('base64') });
    expect(parseDataUrl('not a data url')).toBeUndefined();
  });
});

describe('guessMimeType', () => {
  it('guesses from the path only', () => {
    expect(guessMimeType('https://example.com/doc.pdf#page=2')).toBe('application/pdf');
    expect(guessMimeType('https://example.com/a.png/view')).toBeUndefined();
  });
});
