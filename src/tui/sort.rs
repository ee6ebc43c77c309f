//! How the main list is ordered: the sort keys, and names in the order
//! people read them (`journey-2` before `journey-10`).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Status,
    Journey,
    Entered,
    Active,
    Conversion,
    LastActivity,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Status => "status",
            SortKey::Journey => "journey",
            SortKey::Entered => "entered",
            SortKey::Active => "active",
            SortKey::Conversion => "conversion",
            SortKey::LastActivity => "last activity",
        }
    }

    pub(super) fn next(self) -> SortKey {
        match self {
            SortKey::Status => SortKey::Journey,
            SortKey::Journey => SortKey::Entered,
            SortKey::Entered => SortKey::Active,
            SortKey::Active => SortKey::Conversion,
            SortKey::Conversion => SortKey::LastActivity,
            SortKey::LastActivity => SortKey::Status,
        }
    }
}

/// Orders names as people do: `journey-2` before `journey-10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let mut n = String::new();
                while let Some(c) = x.peek().copied().filter(char::is_ascii_digit) {
                    n.push(c);
                    x.next();
                }
                let mut m = String::new();
                while let Some(d) = y.peek().copied().filter(char::is_ascii_digit) {
                    m.push(d);
                    y.next();
                }
                let (n, m) = (n.trim_start_matches('0'), m.trim_start_matches('0'));
                let ord = n.len().cmp(&m.len()).then_with(|| n.cmp(m));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(&d);
                }
                x.next();
                y.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::natural_cmp;
    use std::cmp::Ordering::*;

    #[test]
    fn natural_order_of_names() {
        assert_eq!(natural_cmp("journey-2", "journey-10"), Less);
        assert_eq!(natural_cmp("journey-10", "journey-10"), Equal);
        assert_eq!(natural_cmp("a", "b"), Less);
        assert_eq!(natural_cmp("v007", "v7"), Equal);
        assert_eq!(natural_cmp("cart", "cart-recovery"), Less);
    }
}
