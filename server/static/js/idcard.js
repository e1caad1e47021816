/* The chip ID card's QR text (căn cước / CCCD), as a scanner or a camera reads it:
   `number|old number|name|ddmmyyyy|sex|address|ddmmyyyy`. Only told apart here; the server
   reads it (server/engine/idcard.py) and keeps none of it. */

// A card's text starts with its number (an old card's 9 digits, a chip card's 12; a damaged
// one perhaps more or fewer), perhaps after a scanner's AIM prefix, and a "|": no booking
// code, receipt or address does.
const CARD = /^\s*(?:\][A-Za-z][0-9])?[0-9]{6,15}\s*\|/;

export function looksLikeCard(raw) {
  return CARD.test(String(raw || ""));
}
