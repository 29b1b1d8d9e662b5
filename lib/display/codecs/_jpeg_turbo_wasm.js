// @ts-self-types="./_jpeg_turbo_wasm.d.ts"
/**
 * libjpeg-turbo's TurboJPEG API built to WebAssembly, the binary the `@cwasm/jpeg-turbo` package
 * ships, compiled once here and instantiated by `jpeg.ts`. This is a `.js` file because
 * TypeScript cannot parse a source-phase import yet; the runtime can.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- pinned npm specifier, as the project uses no import map
import source jpegTurbo from "npm:@cwasm/jpeg-turbo@0.1.3/jpeg-turbo.wasm";

export default jpegTurbo;
