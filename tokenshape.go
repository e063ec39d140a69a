package kakaoauth

import "strings"

// CompactJWS says whether s has the shape of a JWS compact serialization
// (an OIDC ID token): three non-empty base64url segments joined by dots,
// nothing else. Go's base64 skips CR and LF, so a check of the characters
// must come before any decoding (workflow and shared/kakao both use it).
func CompactJWS(s string) bool {
	segments := strings.Split(s, ".")
	if len(segments) != 3 {
		return false
	}
	for _, seg := range segments {
		if seg == "" {
			return false
		}
		for i := 0; i < len(seg); i++ {
			if !base64URLChar(seg[i]) {
				return false
			}
		}
	}
	return true
}

// BearerToken says whether s is an OAuth bearer token of at most max
// bytes: RFC 6750's b64token, letters, digits and -._~+/ then any "=".
func BearerToken(s string, max int) bool {
	if len(s) > max {
		return false
	}
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		if !base64URLChar(body[i]) && !strings.ContainsRune(".~+/", rune(body[i])) {
			return false
		}
	}
	return true
}

func base64URLChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
