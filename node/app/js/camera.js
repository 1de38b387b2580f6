// The camera as a QR code reader: the phone's back camera in a <video>, a few frames a second
// drawn on a canvas and read by the browser's BarcodeDetector where it has one (Android), by
// jsQR in a worker elsewhere. Nothing leaves the phone.

import { h } from "./ui.js";

const FRAME_INTERVAL_MS = 120;
const LARGEST_SIDE = 720; // enough for a label at arm's length, small enough to read fast

/**
 * Starts reading QR codes into `onText(text)`; returns `{element, stop}`. Throws when the phone
 * has no camera or the person refused it (the caller offers typing instead).
 */
export async function startReader(label, onText) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
  const video = h("video", { class: "viewfinder", playsinline: true, muted: true, "aria-label": label });
  video.muted = true;
  video.setAttribute("playsinline", "");
  video.srcObject = stream;
  await video.play().catch(() => {});
  performance.mark("salvage:camera");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const decode = await decoder();
  let stopped = false;
  let busy = false;
  const timer = setInterval(async () => {
    if (stopped || busy || video.readyState < 2 || !video.videoWidth) return;
    busy = true;
    try {
      const scale = Math.min(1, LARGEST_SIDE / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const text = await decode(canvas, context);
      if (text && !stopped) onText(text);
    } finally {
      busy = false;
    }
  }, FRAME_INTERVAL_MS);
  const stop = () => {
    stopped = true;
    clearInterval(timer);
    for (const track of stream.getTracks()) track.stop();
    decode.close?.();
  };
  return { element: video, stop };
}

async function decoder() {
  if ("BarcodeDetector" in self) {
    try {
      const formats = await self.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        const detector = new self.BarcodeDetector({ formats: ["qr_code"] });
        return async (canvas) => {
          const codes = await detector.detect(canvas);
          return codes.length ? codes[0].rawValue : null;
        };
      }
    } catch {
      // Present but not working (desktop Linux): fall back to jsQR.
    }
  }
  const worker = new Worker("./js/scan_worker.js");
  let waiting = null;
  worker.onmessage = (event) => {
    if (waiting) waiting(event.data);
    waiting = null;
  };
  const decode = (canvas, context) =>
    new Promise((resolve) => {
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      waiting = resolve;
      worker.postMessage({ data: image.data, width: image.width, height: image.height }, [image.data.buffer]);
    });
  decode.close = () => worker.terminate();
  return decode;
}

/**
 * What a scanned text names: `{giai}` for a GS1 Digital Link (…/8004/<GIAI>, RFC 3986
 * percent-decoded) or a typed GIAI, `{enrol: key}` for a phone's enrolment code, else null.
 */
export function understand(text) {
  const trimmed = (text || "").trim();
  const enrol = trimmed.match(/\/app\/#\/enrol\/([0-9a-f]{64})$/);
  if (enrol) return { enrol: enrol[1] };
  if (/^[0-9a-f]{64}$/.test(trimmed)) return { enrol: trimmed };
  const link = trimmed.match(/\/8004\/([^/?#]+)/);
  if (link) {
    try {
      return { giai: decodeURIComponent(link[1]) };
    } catch {
      return null;
    }
  }
  const giai = trimmed.replace(/^\(8004\)/, "");
  if (/^[0-9]{6}[!"%-?A-Z_a-z]{1,24}$/.test(giai)) return { giai };
  return null;
}
