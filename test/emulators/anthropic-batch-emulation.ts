/** The emulator lives in src/demo/emulators (demo mode runs it too); tests import it from here. */
export * from '../../src/demo/emulators/anthropic-batch-emulation';
