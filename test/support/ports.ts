/** Free TCP ports on 127.0.0.1 for processes a test starts. */
export { freePorts, freeStablePorts } from '../../src/net/free-ports';
