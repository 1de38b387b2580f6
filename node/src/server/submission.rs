//! Reading a submission's body: at most the node's body limit, its large
//! part within the node's budget for bulk bytes, and nothing kept past the
//! first element that takes an array beyond the entries one submission may
//! carry.
//!
//! The count is taken as the bytes arrive, so a body that will be refused for
//! its length costs no memory beyond that point: the rest (within the limit)
//! is read and dropped, so that a client still sending gets the refusal rather
//! than a broken pipe, as a lingering close would give it. Every byte past a
//! body's first `bulk::FREE_BODY_BYTES`, kept or dropped, waits for the shared
//! budget (`bulk::BulkBytes`), so a flood of refused bodies is read no faster
//! than that.

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::ApiError;
use super::bulk::{BulkBytes, FREE_BODY_BYTES};

/// Reads `body`, refusing it with 413 once it is longer than `limit` bytes
/// (`http.body_too_large`) or holds an array of more than `max_entries`
/// elements (`http.too_many_entries`), whichever shows first.
pub(super) async fn read(body: Body, limit: usize, max_entries: usize, budget: &BulkBytes) -> Result<Bytes, ApiError> {
    let mut body = Limited::new(body, limit);
    let mut pieces: Vec<Bytes> = Vec::new();
    let (mut received, mut refused) = (0usize, false);
    let mut count = EntryCount::default();
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(frame) => frame,
            // Past the count, what matters is the count.
            Err(_) if refused => break,
            Err(error) => return Err(unreadable(error, limit)),
        };
        let Ok(data) = frame.into_data() else { continue };
        let before = received;
        received += data.len();
        let large = received.saturating_sub(FREE_BODY_BYTES.max(before));
        if large > 0 {
            budget.take(large).await;
        }
        if refused {
            continue;
        }
        count.feed(&data);
        if count.entries() > max_entries {
            pieces = Vec::new();
            refused = true;
            continue;
        }
        pieces.push(data);
    }
    if refused {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "http.too_many_entries",
            format!(
                "a submission may carry at most {max_entries} entries and this array holds more; \
                 submit them in several requests"
            ),
        ));
    }
    Ok(match pieces.len() {
        0 => Bytes::new(),
        1 => pieces.swap_remove(0),
        _ => Bytes::from(pieces.concat()),
    })
}

/// The refusal of a body that could not be read whole.
fn unreadable(error: Box<dyn std::error::Error + Send + Sync>, limit: usize) -> ApiError {
    if error.is::<LengthLimitError>() {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "http.body_too_large",
            format!(
                "the request body is larger than this node's limit of {limit} bytes; submit fewer entries at a time"
            ),
        );
    }
    ApiError::bad_request("http.body_unreadable", format!("the request body could not be read: {error}"))
}

/// How many elements the top-level array of a body holds, fed the body in
/// pieces; 1 for a body that is not an array. Only commas outside strings at
/// depth one are counted, without parsing or allocating: the parsers judge the
/// body afterwards, this only bounds their work. Nothing after the array's
/// closing bracket is looked at.
#[derive(Debug, Default)]
struct EntryCount {
    /// Whether the first byte that is not whitespace has been seen, and was `[`.
    started: Option<bool>,
    /// Whether the top-level value has ended.
    ended: bool,
    depth: usize,
    in_string: bool,
    escaped: bool,
    commas: usize,
    /// Whether the array holds anything at all (`[]` holds no element).
    anything: bool,
}

impl EntryCount {
    fn feed(&mut self, bytes: &[u8]) {
        let mut at = 0;
        while at < bytes.len() {
            if self.ended || self.started == Some(false) {
                return;
            }
            if self.in_string && !self.escaped {
                // Most of a body is the inside of strings (signatures, names):
                // skip to where one could end, at memchr's speed.
                match memchr::memchr2(b'"', b'\\', &bytes[at..]) {
                    Some(offset) => at += offset,
                    None => return,
                }
            }
            let byte = bytes[at];
            at += 1;
            if self.started.is_none() {
                if byte.is_ascii_whitespace() {
                    continue;
                }
                self.started = Some(byte == b'[');
                if byte != b'[' {
                    return;
                }
            }
            self.step(byte);
        }
    }

    fn step(&mut self, byte: u8) {
        if self.in_string {
            match byte {
                _ if self.escaped => self.escaped = false,
                b'\\' => self.escaped = true,
                b'"' => self.in_string = false,
                _ => {}
            }
            return;
        }
        match byte {
            b'[' | b'{' => {
                self.anything |= self.depth == 1;
                self.depth += 1;
            }
            b']' | b'}' => {
                self.depth = self.depth.saturating_sub(1);
                self.ended = self.depth == 0;
            }
            b',' if self.depth == 1 => self.commas += 1,
            b'"' => {
                self.anything |= self.depth == 1;
                self.in_string = true;
            }
            byte if !byte.is_ascii_whitespace() => self.anything |= self.depth == 1,
            _ => {}
        }
    }

    fn entries(&self) -> usize {
        match self.started {
            Some(true) if self.anything || self.commas > 0 => self.commas + 1,
            Some(true) => 0,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(pieces: &[&[u8]]) -> usize {
        let mut count = EntryCount::default();
        for piece in pieces {
            count.feed(piece);
        }
        count.entries()
    }

    #[test]
    fn entries_are_counted_at_the_top_level_only() {
        assert_eq!(count(&[br#"{"a":[1,2,3]}"#]), 1);
        assert_eq!(count(&[b"  [] "]), 0);
        assert_eq!(count(&[b"[1]"]), 1);
        assert_eq!(count(&[br#"[{"a":[1,2]},"x,y",{"b":"\",["}]"#]), 3);
        assert_eq!(count(&[b"[1,1,1,1,1]"]), 5);
        assert_eq!(count(&[b"[,,,"]), 4);
        assert_eq!(count(&[b"[1,2]", b",3,4"]), 2, "nothing after the array counts");
    }

    #[test]
    fn pieces_count_as_the_whole_would() {
        let body: &[u8] = br#"  [{"a":"x\"],[,"},2, "\\",[3,4]]"#;
        let whole = count(&[body]);
        assert_eq!(whole, 4);
        for cut in 0..body.len() {
            assert_eq!(count(&[&body[..cut], &body[cut..]]), whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(count(&bytes), whole);
    }

    #[tokio::test]
    async fn a_long_array_is_refused_and_the_rest_of_the_body_read_and_dropped() {
        let (mut sender, body) = body_channel();
        let budget = std::sync::Arc::new(BulkBytes::new(1 << 30));
        let reading = tokio::spawn({
            let budget = budget.clone();
            async move { read(body, 1 << 20, 3, &budget).await }
        });
        sender.send(Bytes::from_static(b"[1,2,3,4")).await;
        // Whatever follows is read (the channel holds four pieces) until the body ends.
        for _ in 0..16 {
            sender.send(Bytes::from(vec![b'1'; 1024])).await;
        }
        drop(sender);
        let refusal = reading.await.expect("the reader ends").expect_err("refused");
        assert_eq!(refusal.code, "http.too_many_entries");
    }

    #[tokio::test]
    async fn bodies_within_the_limits_are_read_whole() {
        let budget = BulkBytes::new(1 << 30);
        let body = Body::from(&b"[1,2,3]"[..]);
        assert_eq!(read(body, 1 << 20, 3, &budget).await.expect("read").as_ref(), b"[1,2,3]");
        let refusal = read(Body::from(vec![b' '; 100]), 10, 3, &budget).await.expect_err("too large");
        assert_eq!(refusal.code, "http.body_too_large");
    }

    /// A body fed piece by piece that ends only when its sender is dropped.
    fn body_channel() -> (Sender, Body) {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Bytes>(4);
        let pieces = futures_util::stream::poll_fn(move |context| {
            receiver.poll_recv(context).map(|piece| piece.map(Ok::<_, std::io::Error>))
        });
        (Sender(sender), Body::from_stream(pieces))
    }

    struct Sender(tokio::sync::mpsc::Sender<Bytes>);

    impl Sender {
        async fn send(&mut self, bytes: Bytes) {
            self.0.send(bytes).await.expect("the body is read");
        }
    }
}
