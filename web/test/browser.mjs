// The browser the tests and the benchmark drive: the system's Chromium (Debian's package),
// never a downloaded one.
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// headless as root in a container, WebGL on SwiftShader (no GPU here)
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-dev-shm-usage",
  "--use-angle=swiftshader",
  "--enable-unsafe-swiftshader",
  "--window-size=1280,720",
];
