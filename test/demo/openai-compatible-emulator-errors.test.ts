/** The demo emulators carry no test fixtures at run time: their copy of a recorded body must stay the recording. */
import { reasoningLegacyParameterError } from '../../src/demo/emulators/openai-compatible-emulator-errors';
import { loadOpenAICompatibleJson } from '../emulators/openai-compatible-fixtures';

describe('reasoningLegacyParameterError', () => {
  it('is OpenAI\'s recorded 400 body, byte for byte as JSON', () => {
    expect(reasoningLegacyParameterError()).toEqual(loadOpenAICompatibleJson('openai/reasoning-model-legacy-parameter-error.json'));
  });
});
