"""S3's answer to a browser's CORS preflight, around moto 5.2.1.

S3 answers a preflight (OPTIONS with Origin and
Access-Control-Request-Method) from the bucket's CORS configuration alone:
the request carries no credentials, and whether the object exists or who
may read it does not matter
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html,
"How does Amazon S3 evaluate the CORS configuration on a bucket?";
https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html).
moto answers OPTIONS on a key that does not exist yet from the CORS rules,
but on a key that exists it first applies its anonymous-access check (no
Authorization header, a private object) and answers 403: a web app could
upload a file but not read it back. Here a preflight on a key is answered
as on its bucket, from the CORS rules.
"""

from __future__ import annotations

from moto.s3.responses import S3Response

_key_response = S3Response._key_response


def _key_response_with_preflight(self, request, full_url):
    if request.method == "OPTIONS":
        return self._response_options(request.headers, self.parse_bucket_name_from_url(request, full_url))
    return _key_response(self, request, full_url)


S3Response._key_response = _key_response_with_preflight
