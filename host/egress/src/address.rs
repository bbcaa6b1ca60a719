//! The check after DNS: may this connection go to this address?

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::{Denied, Permit};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockReason {
    /// A cloud provider's instance metadata service: holds credentials, never reachable.
    CloudMetadata,
    /// `0.0.0.0`, `::`.
    Unspecified,
    /// `0.0.0.0/8`: "this network".
    ThisNetwork,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918: `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `100.64.0.0/10`: carrier-grade NAT.
    SharedAddressSpace,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// `fc00::/7`.
    UniqueLocal,
    /// `fec0::/10` (deprecated, still routed by some networks).
    SiteLocal,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// Everything else not globally routable: `240/4`, `192.0.0/24`, `2001::/23`,
    /// local-use NAT64, discard-only, IPv6 outside `2000::/3`.
    Reserved,
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CloudMetadata => "cloud metadata",
            Self::Unspecified => "unspecified",
            Self::ThisNetwork => "this-network",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::SharedAddressSpace => "shared (carrier-grade NAT)",
            Self::LinkLocal => "link-local",
            Self::UniqueLocal => "unique-local",
            Self::SiteLocal => "site-local",
            Self::Multicast => "multicast",
            Self::Broadcast => "broadcast",
            Self::Documentation => "documentation",
            Self::Benchmarking => "benchmarking",
            Self::Reserved => "reserved",
        })
    }
}

/// Metadata services of AWS, GCP and Azure (`169.254.169.254`), AWS ECS task metadata
/// (`169.254.170.2`) and Alibaba Cloud (`100.100.100.200`).
const METADATA_V4: [Ipv4Addr; 3] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(169, 254, 170, 2),
    Ipv4Addr::new(100, 100, 100, 200),
];

/// AWS's IPv6 instance metadata endpoint.
const METADATA_V6: [Ipv6Addr; 1] = [Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)];

/// Checks an address a permitted host resolved to (or a literal in the URL) before
/// connecting. Cloud metadata is refused always; an address outside the entry's literal
/// address or block is refused; any other non-global address is refused unless
/// `permit.private_allowed`. IPv6 forms that embed an IPv4 address (mapped,
/// compatible, NAT64, 6to4) are judged by the IPv4 address, so they cannot bypass.
pub fn check_address(ip: IpAddr, permit: &Permit) -> Result<(), Denied> {
    let embedded = match ip {
        IpAddr::V4(_) => None,
        IpAddr::V6(v6) => embedded_ipv4(v6),
    };
    // What the connection reaches once any IPv6 wrapping is taken off.
    let effective = embedded.map_or(ip, IpAddr::V4);
    if is_cloud_metadata(ip) || is_cloud_metadata(effective) {
        return Err(Denied::BlockedAddress {
            ip,
            reason: BlockReason::CloudMetadata,
        });
    }
    if let Some(network) = &permit.within
        && !network.contains(&ip)
        && !network.contains(&effective)
    {
        return Err(Denied::OutsideEntry {
            ip,
            entry: permit.entry.clone(),
        });
    }
    if !permit.private_allowed
        && let Some(reason) = non_global_reason(effective)
    {
        return Err(Denied::BlockedAddress { ip, reason });
    }
    Ok(())
}

fn is_cloud_metadata(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => METADATA_V4.contains(&v4),
        IpAddr::V6(v6) => METADATA_V6.contains(&v6),
    }
}

/// The IPv4 address an IPv6 address stands for, if it is one of the forms that carry
/// one: mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4
/// `2002:aabb:ccdd::/48`.
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(mapped) = v6.to_ipv4_mapped() {
        return Some(mapped);
    }
    let s = v6.segments();
    let from_segments = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, high, low] | [0x64, 0xff9b, 0, 0, 0, 0, high, low] => {
            Some(from_segments(high, low))
        }
        [0x2002, high, low, ..] => Some(from_segments(high, low)),
        _ => None,
    }
}

fn non_global_reason(ip: IpAddr) -> Option<BlockReason> {
    match ip {
        IpAddr::V4(v4) => non_global_v4(v4),
        IpAddr::V6(v6) => non_global_v6(v6),
    }
}

fn non_global_v4(v4: Ipv4Addr) -> Option<BlockReason> {
    let [a, b, c, _] = v4.octets();
    let reason = if v4.is_unspecified() {
        BlockReason::Unspecified
    } else if a == 0 {
        BlockReason::ThisNetwork
    } else if v4.is_loopback() {
        BlockReason::Loopback
    } else if v4.is_private() {
        BlockReason::Private
    } else if a == 100 && (64..128).contains(&b) {
        BlockReason::SharedAddressSpace
    } else if v4.is_link_local() {
        BlockReason::LinkLocal
    } else if v4.is_documentation() {
        BlockReason::Documentation
    } else if a == 198 && (b == 18 || b == 19) {
        BlockReason::Benchmarking
    } else if v4.is_multicast() {
        BlockReason::Multicast
    } else if v4.is_broadcast() {
        BlockReason::Broadcast
    } else if a >= 240 || (a, b, c) == (192, 0, 0) {
        BlockReason::Reserved
    } else {
        return None;
    };
    Some(reason)
}

fn non_global_v6(v6: Ipv6Addr) -> Option<BlockReason> {
    let s = v6.segments();
    let reason = if v6.is_unspecified() {
        BlockReason::Unspecified
    } else if v6.is_loopback() {
        BlockReason::Loopback
    } else if v6.is_multicast() {
        BlockReason::Multicast
    } else if s[0] & 0xfe00 == 0xfc00 {
        BlockReason::UniqueLocal
    } else if s[0] & 0xffc0 == 0xfe80 {
        BlockReason::LinkLocal
    } else if s[0] & 0xffc0 == 0xfec0 {
        BlockReason::SiteLocal
    } else if (s[0], s[1]) == (0x2001, 0x0db8) || (s[0] == 0x3fff && s[1] & 0xf000 == 0) {
        BlockReason::Documentation
    } else if (s[0], s[1], s[2]) == (0x2001, 0x0002, 0) {
        BlockReason::Benchmarking
    } else if (s[0] == 0x2001 && s[1] < 0x0200)
        || (s[0], s[1], s[2]) == (0x64, 0xff9b, 1)
        || s[0] & 0xe000 != 0x2000
    {
        // IETF protocol assignments (Teredo, ORCHID, ...), local-use NAT64 whose
        // embedded address we cannot locate, and everything outside global unicast.
        BlockReason::Reserved
    } else {
        return None;
    };
    Some(reason)
}
