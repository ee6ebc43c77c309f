//! The key table's rules.

use super::*;

fn press(map: &KeyMap, c: char) -> Option<Action> {
    map.action(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn remap(pairs: &[(&str, &[&str])]) -> Result<KeyMap, (usize, String)> {
    let remaps: Vec<(String, Vec<String>)> = pairs
        .iter()
        .map(|(a, ks)| (a.to_string(), ks.iter().map(|k| k.to_string()).collect()))
        .collect();
    KeyMap::with_remaps(&remaps)
}

#[test]
fn the_defaults_give_each_key_one_action() {
    let map = remap(&[]).unwrap();
    assert_eq!(press(&map, 's'), Some(Action::Stop));
    assert_eq!(press(&map, 'S'), Some(Action::StopAll));
    assert_eq!(press(&map, 'z'), None);
    assert_eq!(map.key(Action::KillSwitch), "K");
}

#[test]
fn a_remap_moves_the_action_and_frees_its_old_key() {
    let map = remap(&[("stop", &["z"]), ("down", &["Down", "J"])]).unwrap();
    assert_eq!(press(&map, 'z'), Some(Action::Stop));
    assert_eq!(press(&map, 's'), None);
    assert_eq!(press(&map, 'J'), Some(Action::Down));
    assert_eq!(press(&map, 'j'), None);
    assert_eq!(map.key(Action::Stop), "z");
    assert!(map.footer(&[Action::Stop]).contains("z stop"));
}

#[test]
fn bad_remaps_are_refused_with_the_action_named() {
    let why = |pairs: &[(&str, &[&str])]| remap(pairs).unwrap_err().1;
    assert_eq!(why(&[("stop", &["f"])]), "keys.stop: f is already finish");
    assert!(why(&[("finish", &["x"]), ("stop", &["x"])]).contains("x is already finish"));
    assert!(why(&[("confirm", &["y"])]).contains("printable key would commit"));
    assert!(why(&[("halt", &["x"])]).starts_with("keys.halt: no such action"));
    assert!(why(&[("stop", &["Ctrl-x"])]).contains("\"Ctrl-x\" is not a key"));
    assert!(why(&[("stop", &[])]).contains("names no key"));
    // The commit may take another key that types nothing.
    let map = remap(&[("confirm", &["F2"])]).unwrap();
    assert!(map.confirms(KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE)));
}

#[test]
fn ctrl_c_quits_whatever_the_table() {
    let map = remap(&[("quit", &["Q"])]).unwrap();
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(map.action(ctrl_c), Some(Action::Quit));
    assert_eq!(press(&map, 'q'), None);
}
