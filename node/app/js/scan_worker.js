// Reads QR codes off the main thread: frames come in as ImageData, text goes back.
// jsQR (vendor/jsqr.min.js, Apache-2.0) decodes where the browser has no BarcodeDetector.
/* global jsQR */
importScripts("../vendor/jsqr.min.js");

self.onmessage = (event) => {
  const { data, width, height } = event.data;
  const code = jsQR(data, width, height, { inversionAttempts: "attemptBoth" });
  self.postMessage(code ? code.data : null);
};
