from pipeline.io.corpora.kmou import file_split, map_label, parse_markup


def test_parse_markup_recovers_offsets():
    text, spans = parse_markup("<미국:LOC>은 <1091억 달러:MNY>로 <1위:NOH>")
    assert text == "미국은 1091억 달러로 1위"
    assert [(text[a:b], t) for a, b, t in spans] == [("미국", "LOC"), ("1091억 달러", "MNY"), ("1위", "NOH")]


def test_label_mapping_splits_loc_and_masks():
    mapping = {"LOC": "COUNTRY|LOCATION", "POH": "-", "TIM": "O"}
    assert map_label("LOC", "미국", mapping, {"미국"}) == "COUNTRY"
    assert map_label("LOC", "서울", mapping, {"미국"}) == "LOCATION"
    assert map_label("POH", "갤럭시", mapping, set()) == "-"
    assert map_label("XYZ", "?", mapping, set()) == "O"


def test_file_split_is_stable():
    assert file_split("00002_NER.txt", 10, 10) == file_split("00002_NER.txt", 10, 10)
    splits = {file_split(f"{i:05d}_NER.txt", 10, 10) for i in range(300)}
    assert splits == {"train", "dev", "test"}
