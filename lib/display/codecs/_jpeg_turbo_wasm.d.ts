/** The TurboJPEG WebAssembly module, compiled, not yet instantiated. */
declare const jpegTurbo: WebAssembly.Module;
export default jpegTurbo;
