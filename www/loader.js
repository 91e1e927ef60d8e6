// Starts the app: picks one of its two builds and runs it. `cargo xtask build` writes this file
// into dist/ under a hashed name, with the builds' names filled in for the two placeholders.

// While the engine loads, the page (www/index.html) shows the page the address opens as current
// in its title bar, as the app's will, and says what that page does.
const opened = new URLSearchParams(location.hash.slice(1)).get("page") ?? "playground";
for (const link of document.querySelectorAll("#boot a.nav")) {
  if (link.getAttribute("href") === "#page=" + opened) {
    link.classList.add("current");
    link.setAttribute("aria-current", "page");
  }
}
for (const about of document.querySelectorAll("#boot .boot-about")) {
  about.hidden = about.dataset.page !== opened;
}

// A module whose one function runs `f32x4.relaxed_madd`: the browser validates it only where it
// has relaxed SIMD, whose fused multiply-adds speed up the GEMM kernel.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0,
  32, 0, 32, 0, 253, 133, 2, 11,
]);
const relaxedSimd = WebAssembly.validate(RELAXED_SIMD_PROBE);
// `?simd=simd128` keeps the SIMD128 build (the benchmarks and tests compare the two).
const wanted = new URLSearchParams(location.search).get("simd");
const build = relaxedSimd && wanted !== "simd128" ? "./RELAXED_SIMD_BUILD" : "./SIMD128_BUILD";

try {
  const bindings = await import(build + ".js");
  await bindings.default({ module_or_path: new URL(build + "_bg.wasm", import.meta.url) });
  // The engine's exported functions, for the benchmarks and tests that call them from outside.
  window.wasmBindings = bindings;
} catch (error) {
  const status = document.getElementById("boot-status");
  if (status) {
    status.textContent =
      "Neural Playground could not start in this browser (" + error + "). It needs " +
      "WebAssembly with SIMD: a current Chrome, Edge, Firefox or Safari has it.";
  }
  throw error;
}
