//! Examples of the affiliation strings the resolver meets, and its edge cases.

use super::{Method, resolve};

/// The country `text` resolves to, or "-" for none.
fn country(text: &str) -> &'static str {
    resolve(text).map_or("-", |r| r.country)
}

fn method(text: &str) -> Option<Method> {
    resolve(text).map(|r| r.method)
}

#[test]
fn the_examples_of_the_brief() {
    let cases = [
        (
            "Dept. of Surgery, Brigham, Boston, MA 02115, USA. Electronic address: x@y.edu",
            "US",
        ),
        ("PR China", "CN"),
        ("Department of X, Md", "US"),
        ("Tokyo, Japan", "JP"),
        ("Universität Heidelberg, Deutschland", "DE"),
        ("Seoul 03080, Republic of Korea", "KR"),
        (
            "School of Economics, University of Kent, Canterbury, UK",
            "GB",
        ),
        ("Hôpital Saint-Louis, Paris, France.", "FR"),
        (
            "a   Department of Animal Ecology , Swedish University of Agricultural Sciences , Ume\u{e5},  Sweden",
            "SE",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(country(text), want, "{text}");
    }
}

#[test]
fn several_institutions_resolve_to_the_first() {
    let text = "Karolinska Institutet, Stockholm, Sweden; and Department of Health, Oslo, Norway";
    assert_eq!(country(text), "SE");
    // A first part without any evidence defers to the next one.
    assert_eq!(
        country("Department of Economics; Harvard University, Cambridge, MA 02138, USA"),
        "US"
    );
}

#[test]
fn empty_and_evidence_free_strings() {
    assert_eq!(resolve(""), None);
    assert_eq!(resolve("   "), None);
    assert_eq!(resolve("Department of Economics"), None);
    assert_eq!(resolve(",;.()"), None);
}

#[test]
fn e_mail_only() {
    let r = resolve("jane.doe@u-tokyo.ac.jp").unwrap();
    assert_eq!((r.country, r.method), ("JP", Method::EmailDomain));
    assert!(r.confidence < 0.7);
    assert_eq!(country("Electronic address: someone@cam.ac.uk."), "GB");
    let edu = resolve("Correspondence: x@stanford.edu").unwrap();
    assert_eq!(edu.country, "US");
    assert!(edu.confidence <= 0.5);
    assert_eq!(resolve("x@gmail.com"), None);
    assert_eq!(resolve("x@company.io"), None);
    // The e-mail never outweighs a named country.
    assert_eq!(
        country("University of Oslo, Oslo, Norway, x@gmail.de"),
        "NO"
    );
}

#[test]
fn postal_abbreviations_need_address_context() {
    assert_eq!(country("Department of X, Md"), "US");
    assert_eq!(country("Department of X, Md."), "US");
    assert_eq!(country("Johns Hopkins University, Baltimore, MD"), "US");
    assert_eq!(
        method("Institute, 77 Main St, Cambridge MA 02139"),
        Some(Method::UsState)
    );
    // English words and lower-case forms are not states.
    assert_eq!(resolve("Research in Economics"), None);
    assert_eq!(resolve("Center for Studies, in"), None);
    assert_eq!(
        resolve("ME"),
        None,
        "a lone code with nothing before it is not an address"
    );
    assert_eq!(resolve("Department of Economics, or"), None);
    // "IN" is Indiana only in address context.
    assert_eq!(country("Indiana University, Bloomington, IN 47405"), "US");
    assert_eq!(
        method("Purdue University, West Lafayette, IN"),
        Some(Method::UsState)
    );
}

#[test]
fn canadian_and_australian_addresses() {
    assert_eq!(country("London, Ontario, Canada"), "CA");
    assert_eq!(country("Western University, London, Ontario"), "CA");
    assert_eq!(country("Western University, London, ON N6A 5B7"), "CA");
    assert_eq!(country("University of Alberta, Edmonton, AB T6G 2E3"), "CA");
    assert_eq!(country("University College London, London"), "GB");
    assert_eq!(
        country("University of Sydney, Sydney, New South Wales"),
        "AU"
    );
    assert_eq!(country("UNSW, Kensington, NSW 2052"), "AU");
}

#[test]
fn china_and_its_neighbours() {
    assert_eq!(country("Hong Kong"), "HK");
    assert_eq!(
        country("The Chinese University of Hong Kong, Shatin, Hong Kong SAR"),
        "HK"
    );
    assert_eq!(country("City University, Kowloon, Hong Kong, China"), "HK");
    assert_eq!(country("University of Macau, Taipa, Macao"), "MO");
    assert_eq!(country("Macau"), "MO");
    assert_eq!(country("National Taiwan University, Taipei, Taiwan"), "TW");
    assert_eq!(
        country("Peking University, Beijing 100871, P.R. China"),
        "CN"
    );
    assert_eq!(
        country("Fudan University, Shanghai, People's Republic of China"),
        "CN"
    );
    assert_eq!(country("Zhejiang University, Hangzhou 310058, PRC"), "CN");
}

#[test]
fn country_variants() {
    let cases = [
        ("U.S.A.", "US"),
        ("United States of America", "US"),
        ("Oxford, U.K.", "GB"),
        ("Edinburgh, Scotland", "GB"),
        ("Cardiff, Wales", "GB"),
        ("Belfast, Northern Ireland", "GB"),
        ("Dublin, Ireland", "IE"),
        ("Madrid, España", "ES"),
        ("Roma, Italia", "IT"),
        ("São Paulo, Brasil", "BR"),
        ("Utrecht, Nederland", "NL"),
        ("Leiden, The Netherlands", "NL"),
        ("Ankara, Türkiye", "TR"),
        ("Prague, Czech Republic", "CZ"),
        ("Brno, Czechia", "CZ"),
        ("Moscow, Russian Federation", "RU"),
        ("Hanoi, Viet Nam", "VN"),
        ("Tehran, Iran", "IR"),
        ("Pyongyang, DPRK", "KP"),
        ("Daejeon, South Korea", "KR"),
        ("Abidjan, Côte d'Ivoire", "CI"),
        ("Kinshasa, DR Congo", "CD"),
        ("Port Moresby, Papua New Guinea", "PG"),
        ("Santo Domingo, Dominican Republic", "DO"),
    ];
    for (text, want) in cases {
        assert_eq!(country(text), want, "{text}");
    }
}

#[test]
fn ambiguous_names() {
    assert_eq!(country("Emory University, Atlanta, Georgia"), "US");
    assert_eq!(country("Tbilisi State University, Tbilisi, Georgia"), "GE");
    assert_eq!(
        country("University of New Mexico, Albuquerque, New Mexico"),
        "US"
    );
    assert_eq!(country("Rutgers, New Brunswick, New Jersey"), "US");
    assert_eq!(country("Paris, Texas"), "US");
    assert_eq!(country("Cambridge, MA"), "US");
    assert_eq!(country("University of Cambridge, Cambridge"), "GB");
    assert_eq!(country("Instituto Mexicano, Houston, TX 77030"), "US");
}

#[test]
fn cities_alone() {
    assert_eq!(method("University of Tokyo, Tokyo"), Some(Method::City));
    assert_eq!(country("Osaka University, Suita, Osaka"), "JP");
    assert_eq!(country("Kyoto University"), "JP");
    assert_eq!(country("Seoul National University"), "KR");
    assert_eq!(country("Ruprecht-Karls-Universität Heidelberg"), "DE");
    assert_eq!(country("Stanford University, Stanford, CA"), "US");
    assert_eq!(country("Université Paris-Saclay"), "FR");
}

#[test]
fn confidence_follows_the_kind_of_evidence() {
    let by_name = resolve("Tokyo, Japan").unwrap().confidence;
    let by_city = resolve("Tokyo").unwrap().confidence;
    let by_mail = resolve("a@b.ac.jp").unwrap().confidence;
    assert!(
        by_name > by_city && by_city > by_mail,
        "{by_name} {by_city} {by_mail}"
    );
    assert!(by_name <= 0.99);
}

#[test]
fn resolves_from_several_threads() {
    let handles: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| country("Karolinska Institutet, Stockholm, Sweden")))
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), "SE");
    }
}
