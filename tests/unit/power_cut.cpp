// What a power cut can leave of a file deepid is replacing. A kill test stops
// the process, and the kernel still writes what the process wrote; a power
// cut loses whatever the disk had not been made to keep. This test records
// the calls that decide it (fsync, rename, link), replays them with a model of
// the disk, and checks every point the power could go.
//
// The model, that of journaling file systems such as ext4 and XFS:
//  - a file's bytes are on disk once the file has been fsynced after they
//    were written; before that, a cut can leave any part of them;
//  - renames and links in a directory reach the disk in the order they were
//    made, each at a moment the file system chooses, and all of them once
//    the directory has been fsynced.
#include <doctest/doctest.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <deepid/io/atomic_file.hpp>
#include <deepid/io/feature_file.hpp>
#include <deepid/train/checkpoint.hpp>

#include "test_files.hpp"

namespace {

struct disk_call {
  enum kind_t { sync_file, sync_directory, new_name, returned } kind;
  std::string name;    // new_name: the name that now points at `inode`
  ino_t inode = 0;     // sync_file, new_name: the file
};

bool recording = false;
std::vector<disk_call> calls;

ino_t inode_of(const char* path) {
  struct stat s {};
  return ::stat(path, &s) == 0 ? s.st_ino : 0;
}

template <class Function>
Function* next_definition(const char* name) {
  return reinterpret_cast<Function*>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

// The library's own calls, and libstdc++'s for std::filesystem::rename and
// create_hard_link, reach these definitions first; each records the call and
// passes it on.
extern "C" int fsync(int fd) {
  static auto* const real = next_definition<int(int)>("fsync");
  struct stat s {};
  if (recording && ::fstat(fd, &s) == 0)
    calls.push_back({S_ISDIR(s.st_mode) ? disk_call::sync_directory : disk_call::sync_file, "", s.st_ino});
  return real(fd);
}

extern "C" int rename(const char* from, const char* to) noexcept {
  static auto* const real = next_definition<int(const char*, const char*)>("rename");
  const ino_t inode = inode_of(from);
  const int result = real(from, to);
  if (recording && result == 0)
    calls.push_back({disk_call::new_name, std::filesystem::path(to).filename().string(), inode});
  return result;
}

extern "C" int link(const char* from, const char* to) noexcept {
  static auto* const real = next_definition<int(const char*, const char*)>("link");
  const int result = real(from, to);
  if (recording && result == 0)
    calls.push_back({disk_call::new_name, std::filesystem::path(to).filename().string(), inode_of(from)});
  return result;
}

namespace {

using names = std::map<std::string, ino_t>;

// Every state the disk can be in if the power goes after calls[0, cut):
// the names of `before` with a prefix of the renames and links applied, each
// name with whether its file's bytes were synced by then.
struct disk_state {
  names entries;
  std::map<std::string, bool> whole;
};

std::vector<disk_state> states_after(const names& before, const std::vector<disk_call>& log, std::size_t cut) {
  std::vector<std::size_t> renames;
  std::size_t kept = 0;  // renames the last directory sync made certain
  for (std::size_t i = 0; i < cut; ++i) {
    if (log[i].kind == disk_call::new_name) renames.push_back(i);
    if (log[i].kind == disk_call::sync_directory) kept = renames.size();
  }
  std::vector<disk_state> states;
  for (std::size_t applied = kept; applied <= renames.size(); ++applied) {
    disk_state state{before, {}};
    for (std::size_t r = 0; r < applied; ++r) state.entries[log[renames[r]].name] = log[renames[r]].inode;
    for (const auto& [name, inode] : state.entries) {
      bool synced = false;
      for (const auto& [before_name, before_inode] : before) synced = synced || before_inode == inode;
      for (std::size_t i = 0; i < cut; ++i)
        synced = synced || (log[i].kind == disk_call::sync_file && log[i].inode == inode);
      state.whole[name] = synced;
    }
    states.push_back(state);
  }
  return states;
}

// The first cut at which `name` can be lost, hold a partial file, or (after
// the write returned) still hold anything but `after`; empty when none.
std::optional<std::string> first_unsafe_cut(const names& before, const std::vector<disk_call>& log,
                                            const std::string& name, ino_t after) {
  bool has_returned = false;
  for (std::size_t cut = 0; cut <= log.size(); ++cut) {
    if (cut > 0 && log[cut - 1].kind == disk_call::returned) has_returned = true;
    for (const disk_state& state : states_after(before, log, cut)) {
      const auto entry = state.entries.find(name);
      const std::string where = "power cut after " + std::to_string(cut) + " of " + std::to_string(log.size()) + " calls: ";
      if (entry == state.entries.end()) {
        if (before.count(name)) return where + name + " is gone";
        continue;
      }
      if (!state.whole.at(name)) return where + name + " may hold part of its bytes";
      if (has_returned && entry->second != after) return where + name + " is not the file just written";
    }
  }
  return std::nullopt;
}

names current_names(const std::filesystem::path& dir) {
  names found;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    found[entry.path().filename().string()] = inode_of(entry.path().c_str());
  return found;
}

// Runs `write` with its calls recorded. The files already in `dir` are held
// open meanwhile, so that the file system cannot give a new file the inode
// number of one the write deletes, which would let the model take the new
// file for the old one.
void record(const std::filesystem::path& dir, const std::function<void()>& write) {
  std::vector<int> held;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) held.push_back(::open(entry.path().c_str(), O_RDONLY));
  calls.clear();
  recording = true;
  write();
  recording = false;
  calls.push_back({disk_call::returned, "", 0});
  for (const int fd : held) ::close(fd);
}

const deepid_test::scratch_folder scratch{"power_cut"};

}  // namespace

TEST_CASE("the disk model finds a rename before the bytes are synced, and a write that returns unsynced") {
  const names before{{"weights", 1}};
  const std::vector<disk_call> rename_first{
      {disk_call::new_name, "weights", 2}, {disk_call::sync_file, "", 2}, {disk_call::sync_directory, "", 0},
      {disk_call::returned, "", 0}};
  CHECK(first_unsafe_cut(before, rename_first, "weights", 2).value_or("") ==
        "power cut after 1 of 4 calls: weights may hold part of its bytes");
  const std::vector<disk_call> no_directory_sync{
      {disk_call::sync_file, "", 2}, {disk_call::new_name, "weights", 2}, {disk_call::returned, "", 0}};
  CHECK(first_unsafe_cut(before, no_directory_sync, "weights", 2).value_or("") ==
        "power cut after 3 of 3 calls: weights is not the file just written");
  const std::vector<disk_call> safe{{disk_call::sync_file, "", 2}, {disk_call::new_name, "weights", 2},
                                    {disk_call::sync_directory, "", 0}, {disk_call::returned, "", 0}};
  CHECK_FALSE(first_unsafe_cut(before, safe, "weights", 2).has_value());
}

TEST_CASE("io::atomic_file: a power cut at any point leaves the old file or the new one, whole") {
  const auto dir = scratch("atomic_file");
  const auto target = dir / "features.npy";
  deepid_test::write_bytes(target, "old contents");
  ::sync();
  const names before = current_names(dir);

  record(dir, [&] {
    deepid::io::atomic_file file(target);
    file.write("new contents, longer than the old");
    file.commit();
  });
  const auto problem = first_unsafe_cut(before, calls, "features.npy", inode_of(target.c_str()));
  CHECK_MESSAGE(!problem, problem.value_or(""));
  CHECK(calls.size() == 4);  // sync the bytes, rename, sync the folder, return
  CHECK(deepid_test::read_bytes(target) == "new contents, longer than the old");
}

TEST_CASE("write_checkpoint: a power cut at any point leaves a whole checkpoint and a whole previous one") {
  const auto dir = scratch("checkpoint");
  const auto path = dir / "patch_0.ckpt";
  deepid::train::checkpoint_state state;
  state.architecture = "power cut test";
  state.params = {1, 2, 3};
  state.velocity = {0, 0, 0};
  deepid::train::write_checkpoint(path, state);
  state.position.epoch = 1;
  deepid::train::write_checkpoint(path, state);
  ::sync();
  const names before = current_names(dir);
  REQUIRE(before.count("patch_0.ckpt.prev") == 1);

  state.position.epoch = 2;
  record(dir, [&] { deepid::train::write_checkpoint(path, state); });
  const ino_t newest = inode_of(path.c_str());
  const auto problem = first_unsafe_cut(before, calls, "patch_0.ckpt", newest);
  CHECK_MESSAGE(!problem, problem.value_or(""));
  const auto previous_problem = first_unsafe_cut(before, calls, "patch_0.ckpt.prev", inode_of((dir / "patch_0.ckpt.prev").c_str()));
  CHECK_MESSAGE(!previous_problem, previous_problem.value_or(""));
  CHECK(calls.size() == 6);  // link and rename for .prev, then atomic_file's four
  CHECK(deepid::train::checkpoint_problem(path).empty());
  CHECK(deepid::train::checkpoint_problem(deepid::train::previous_checkpoint(path)).empty());
}

TEST_CASE("io::save_features: a power cut at any point leaves the matrix and its name index whole") {
  const auto dir = scratch("features");
  const auto npy = dir / "lfw.npy";
  deepid::matrix<float> features = xt::ones<float>({2, 3});
  deepid::io::save_features(npy, features, {"a.jpg", "b.jpg"});
  ::sync();
  const names before = current_names(dir);
  const std::string index_name = deepid::io::feature_names_path(npy).filename().string();
  REQUIRE(before.count(index_name) == 1);

  features = -features;
  record(dir, [&] { deepid::io::save_features(npy, features, {"c.jpg", "d.jpg"}); });
  for (const std::string name : {std::string("lfw.npy"), index_name}) {
    const auto problem = first_unsafe_cut(before, calls, name, inode_of((dir / name).c_str()));
    CHECK_MESSAGE(!problem, problem.value_or(""));
  }
  CHECK(calls.size() == 7);  // sync, rename, sync the folder: the matrix, then the index; return
  CHECK(deepid::io::load_features(npy).names == std::vector<std::string>{"c.jpg", "d.jpg"});
}
