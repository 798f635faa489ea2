"""``/recordings/<ticket>``: a ticket's recording for people (a PSA user, a chat channel, the console).

Not a Twilio webhook: the link's own signature (``dispatch.handoff.recordings``) is its
authorisation, and a forged, altered or expired link gets 403. The audio is streamed from
the carrier as it comes, byte ranges passed through, so a browser's player can seek.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, request, stream_with_context

import voice_prompts
from dispatch.handoff import recordings
from dispatch.notification.carrier import DeliveryError
from ivr.context import runtime as _runtime

log = logging.getLogger(__name__)

bp = Blueprint("recordings", __name__)
PLAIN = "text/plain; charset=utf-8"


def _refuse(status: int, key: str) -> Response:
    return Response(voice_prompts.say(key) + "\n", status=status, mimetype=PLAIN,
                    headers={"Cache-Control": "no-store"})


@bp.get("/recordings/<number>")
def play(number: str):
    runtime = _runtime()
    try:
        media = recordings.open_media(runtime, number, request.args.get("expires"), request.args.get("sig"),
                                      request.headers.get("Range"))
    except recordings.LinkRefused as exc:
        log.info("refused a recording link for %s: %s", number[:20], exc)
        return _refuse(403, "recording_link_refused")
    except DeliveryError as exc:
        log.warning("recording of %s could not be fetched: %s", number[:20], exc.detail)
        return _refuse(502, "recording_unreachable")
    if media is None:
        return _refuse(404, "recording_unavailable")

    def chunks():
        try:
            yield from media.chunks
        finally:
            media.close()

    headers = {"Cache-Control": "private, max-age=3600", "Accept-Ranges": "bytes",
               "Content-Disposition": f'inline; filename="{number}.mp3"', "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer"}
    if media.length is not None:
        headers["Content-Length"] = str(media.length)
    if media.content_range:
        headers["Content-Range"] = media.content_range
    return Response(stream_with_context(chunks()), status=media.status, mimetype=media.content_type,
                    headers=headers)
