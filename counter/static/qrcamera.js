/* Reading a QR code with the tablet's camera (the guide's page): the browser's own
   BarcodeDetector (Chrome on Android and ChromeOS), so no decoder is shipped or fetched.
   Browsers allow the camera only on a secure page (HTTPS, or localhost): elsewhere, and where
   there is no detector, the button stays hidden and a Bluetooth or USB scanner, which types
   into the field like a keyboard, does the same work. */

const EVERY_MS = 250;  // a frame looked at four times a second: quick, and light on a tablet

export function cameraReady() {
  return window.isSecureContext && "BarcodeDetector" in window &&
    !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

/* Shows `video` the back camera until a QR code is seen: resolves with its text, or null
   when `stopped` (an AbortSignal) ends it first. Rejects when the camera is refused. */
export async function readQr(video, stopped) {
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  video.srcObject = stream;
  try {
    await video.play();
    while (!stopped.aborted) {
      const found = await detector.detect(video).catch(() => []);
      const text = found.length ? found[0].rawValue : "";
      if (text) return text;
      await new Promise((done) => setTimeout(done, EVERY_MS));
    }
    return null;
  } finally {
    stream.getTracks().forEach((t) => t.stop());
    video.srcObject = null;
  }
}
